"""The case bundle as a PDF for the Ombudsman, drawn from the same dictionary as its JSON file.

fpdf2 (pure Python, from the package index alone) writes it with a core font, Helvetica, which every
PDF reader has and which keeps the file small; that font holds Latin-1 only, so the few typographic
characters the record uses beyond it (curly quotes, dashes, an ellipsis, an arrow) are printed as
their plain equivalents (:func:`plain`) and the PDF says so; the JSON file keeps the exact text.
Nothing is computed here: every sentence is a value of the bundle's content (casework.bundle).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fpdf import FPDF

from casework.free_text import is_erased

# Characters outside Latin-1 that the record's text uses, and what a reader expects in their place.
_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2032": "'",
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u2022": "-",
        "\u2192": "->",
        "\u2190": "<-",
        "\u2264": "<=",
        "\u2265": ">=",
        "\u2260": "!=",
        "\u2009": " ",
        "\u200a": " ",
        "\u202f": " ",
        "\u2007": " ",
        "\u200b": "",
        "\u2044": "/",
        "\u20ac": "EUR",
    }
)


def plain(text: str) -> str:
    """``text`` in the Latin-1 the core font can print: known typographic characters as their plain
    forms, others by their compatibility decomposition (ligatures, accents), anything left as "?"."""
    text = text.translate(_PLAIN)
    out: list[str] = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        kept = "".join(c for c in decomposed if ord(c) < 256 and not unicodedata.combining(c))
        out.append(kept or "?")
    return "".join(out)


class _Pdf(FPDF):
    reference = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", size=8)
        self.set_text_color(90)
        self.cell(0, 6, plain(f"Case bundle {self.reference} - page {self.page_no()} of {{nb}}"), align="C")
        self.set_text_color(0)


class _Writer:
    """Headings and paragraphs, each wrapped to the page's width."""

    def __init__(self, reference: str, exported: datetime | None) -> None:
        self.pdf = _Pdf(format="A4")
        self.pdf.reference = reference
        self.pdf.set_margins(18, 16, 18)
        self.pdf.set_auto_page_break(True, margin=16)
        self.pdf.set_title(plain(f"Case bundle {reference}"))
        self.pdf.set_creator("conference challenge bot")
        if exported is not None:
            self.pdf.set_creation_date(exported)
        self.pdf.add_page()

    def text(self, value: str, size: float = 10, style: str = "", indent: float = 0, gap: float = 1) -> None:
        pdf = self.pdf
        pdf.set_font("helvetica", style=style, size=size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(pdf.epw - indent, size * 0.5, plain(value), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    def free_text(self, label: str, value: str, indent: float = 4) -> None:
        """A person's own words (a reason, a summary): italic where a redaction replaced them."""
        style = "I" if is_erased(value) else ""
        self.text(f"{label}: {value}" if value else f"{label}: (none given)", style=style, indent=indent)

    def heading(self, value: str, level: int = 1) -> None:
        if level == 1:
            self.pdf.ln(3)
        self.text(value, size=14 if level == 1 else 11.5, style="B", gap=2 if level == 1 else 1)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _deadlines(w: _Writer, content: Mapping[str, Any]) -> None:
    w.heading("The timeline: every deadline, its explanation and its citation")
    for tl in content["timelines"]:
        w.heading(tl["title"], level=2)
        for d in tl["deadlines"]:
            w.text(f"{d['title']}: {d['status_words']}", style="B", gap=0.5)
            due = f"Due: {d['due_words']}"
            if d["completed_words"]:
                due += f"; done {d['completed_words']}"
            w.text(due, indent=4, gap=0.5)
            w.text(f"Source: {d['citation']}", indent=4, gap=0.5)
            w.text(d["explanation"], size=9.5, indent=4, gap=2)


def _record(w: _Writer, content: Mapping[str, Any]) -> None:
    c = content["conference"]
    w.heading("The conference")
    w.text(f"Type: {c['type']}. Held {c['held_words']}" + (f", ended {c['ended_words']}." if c["ended_words"] else "."))
    w.text(f"Chair: {c['chair'] or 'not recorded'}")
    attendees = ", ".join(f"{a['person']} ({a['agency']})" for a in c["attendees"]) or "none recorded"
    w.text(f"Attendees: {attendees}")

    w.heading("Events recorded")
    for e in content["events"]:
        by = f" (recorded by {e['recorded_by']})" if e["recorded_by"] else ""
        w.text(f"{e['at_words']}: {e['title']}{by}", gap=0.5)
        if e["withdrawn"]:
            w.text(f"No longer counted: {e['withdrawn']}", indent=4, gap=0.5)
    if content["dissents"]:
        w.heading("Dissents")
        for d in content["dissents"]:
            late = ", late" if d["late"] else ""
            decided = f", decided {d['decided_words']}" if d["decided_words"] else ""
            w.text(
                f"Dissent {d['id']} by {d['by']} ({d['agency']}), raised {d['raised_words']}{late}: "
                f"{d['state_words']}{decided}.",
                gap=0.5,
            )
            w.free_text("Reason", d["reason"])
    if content["complaints"]:
        w.heading("Complaints")
        for k in content["complaints"]:
            w.text(
                f"Complaint {k['id']} from the {k['complainant']}, received {k['received_words']}: "
                f"{k['grounds_words']}. Stage now: {k['stage_words']}.",
                gap=0.5,
            )
            w.free_text("Summary", k["summary"])
    w.heading("Decisions and their reasons")
    if not content["decisions"]:
        w.text("No decision is on record.")
    for d in content["decisions"]:
        w.text(f"{d['what']}, by {d['by']}; recorded {d['at_words']} (audit entry {d['seq']})", gap=0.5)
        w.free_text("Reasons", d["reasons"])


def _audit(w: _Writer, content: Mapping[str, Any], mac: Mapping[str, Any]) -> None:
    audit = content["audit"]
    w.heading("The audit trail")
    check = audit["verification"]
    w.text(f"Verification of the whole audit log at export: {check['line']}", style="B")
    for p in check["problems"]:
        w.text(f"Problem: {p}", indent=4)
    head = audit["log_head"]
    if head:
        w.text(f"The log's last entry at export: position {head['seq']}, MAC {head['mac']}.", size=9)
    w.text(
        "Each entry below is signed (HMAC-SHA-256) over its content and the MAC of the entry before it in "
        f"the whole log. The bundle's own MAC, under key {mac['key_id']}: {mac['value']}.",
        size=9,
        gap=2,
    )
    for e in audit["entries"]:
        w.text(f"{e['when_words']}: {e['what_words']}", gap=0.3)
        if e["detail_words"]:
            w.free_text("Detail", e["detail_words"])
        w.text(f"MAC {e['mac'] or 'none (written before the keyed chain began)'}", size=8, indent=4, gap=1.2)


def render_pdf(document: Mapping[str, Any]) -> bytes:
    """The PDF of a sealed bundle (casework.audit_bundle.seal)."""
    content, mac = document["content"], document["mac"]
    exported = datetime.fromisoformat(content["exported_at"]) if content.get("exported_at") else None
    w = _Writer(content["reference"], exported)
    w.text(f"Case bundle: {content['reference']}", size=18, style="B", gap=2)
    w.text(
        f"{content['area']['name']} ({content['area']['id']}). Exported {content['exported_words']}; "
        "every time is UK time."
    )
    w.text(
        "For the Ombudsman: the case's timeline with the explanation and citation of every date, the events "
        "recorded, the decisions with their reasons, and the audit trail with the result of verifying it. "
        "The JSON file exported with this PDF holds the same content with every audit entry's MAC; anyone "
        "holding the audit key can check it with: cpc audit verify --bundle FILE.",
        size=9.5,
    )
    w.text(
        "Case references only: no child or family is named. Text a redaction replaced is shown as redacted. "
        "Curly quotes and dashes are printed as plain ones; the JSON file has the exact text.",
        size=9.5,
    )
    w.text(f"The audit log at export: {content['audit']['verification']['line']}", style="B", gap=2)
    _deadlines(w, content)
    _record(w, content)
    _audit(w, content, mac)
    return w.output()


__all__ = ["plain", "render_pdf"]
