"""``cpc case export`` and ``cpc audit verify --bundle``, on each backend, through the command line.

The case has a dissent (recorded, then not upheld with reasons) and a complaint taken through Stage 2
in Pan-Sussex. The PDF is read back with pypdf: it holds every deadline's citation as people read it,
the decision's reasons and the verification result. The JSON verifies with only the key; one byte
changed anywhere in it (an explanation, an entry's detail, even a space) fails, naming where.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from app import cli_case
from app.bundle_pdf import plain
from app.cli import main
from app.procedures import load_catalogue
from casework.citations import cite_text
from casework.clock import parse_time
from casework.records import Attendee, Conference, Person
from casework.service import Casework
from store import audit_log
from store.sql import SqlStore, open_store

REF = "CPC-123"
NOW = parse_time("2027-01-20T12:00")
# Typographic characters the PDF's core font lacks, as real reasons contain them; '½' it has.
DISSENT_REASON = "The threshold isn’t met – the plan rests on ½ of the evidence…"
DECISION_REASONS = "The plan follows the evidence the conference heard; the reviewing manager spoke to the police"
REDACTED = "[redacted on Wed 20 Jan 2027 by oid-cm: it named a family member]"


class Clock:
    def __init__(self, at: str) -> None:
        self.at = parse_time(at)

    def __call__(self) -> datetime:
        return self.at


def cpc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def db(store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SqlStore]:
    monkeypatch.setenv("CPC_DATABASE_URL", store_url)
    monkeypatch.setenv("CPC_AUDIT_CHECKPOINT_FILE", str(tmp_path / "checkpoints.jsonl"))
    monkeypatch.setattr(cli_case, "clock", lambda: NOW)
    store = open_store(store_url)
    try:
        yield store
    finally:
        store.close()


def build_case(db: SqlStore) -> Casework:
    """A dissent recorded and not upheld; a complaint through Stage 2 (001 5.7.4-5.7.21)."""
    clock = Clock("2026-12-17T16:00")
    cw = Casework(db, load_catalogue().areas, clock)
    for pid, roles in (
        ("oid-chair", [("chair", "sussex")]),
        ("oid-hos", [("head_of_safeguarding", "sussex")]),
        ("oid-cm", [("complaints_manager", "sussex")]),
        ("oid-pc", []),
    ):
        cw.register_person("test", Person(pid, f"{pid}@example.org"), roles)
    held = parse_time("2026-12-17T14:00")
    cw.register_conference(
        "test", Conference(REF, "sussex", "initial", None, held, None, "oid-chair", (Attendee("oid-pc", "police"),))
    )
    # Another case's entries between this case's: the bundle's entries are not contiguous in the log.
    cw.register_conference("test", Conference("CPC-7", "sussex", "initial", None, held, None, "oid-chair"))
    dissent = cw.raise_dissent("oid-pc", REF, DISSENT_REASON).dissent
    assert dissent.id is not None
    cw.record_dissent("oid-chair", dissent.id, "raised")
    clock.at = parse_time("2027-01-04T10:00")
    cw.decide_dissent("oid-hos", dissent.id, False, DECISION_REASONS, "recorded")
    cw.record_complaint("oid-cm", REF, parse_time("2026-12-22T10:00"), "parent", "decision", REDACTED)
    clock.at = NOW
    for name, at in (
        ("stage1_meeting_held", "2026-12-29T10:00"),
        ("stage1_response_sent", "2027-01-05T10:00"),
        ("stage2_requested", "2027-01-08T10:00"),
        ("stage2_meeting_held", "2027-01-19T10:00"),
        ("stage2_letter_sent", "2027-01-20T10:00"),
    ):
        cw.record_step("oid-cm", REF, "stage2", name, parse_time(at), cw.version_of(db.events_for(REF)))
    return cw


def pdf_text(path: Path) -> str:
    """The PDF's text with every run of whitespace (line breaks, wrapping) read as one space."""
    reader = PdfReader(path)
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


@pytest.fixture()
def exported(db: SqlStore, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[Casework, Path, Path]:
    cw = build_case(db)
    out = tmp_path / "bundle"
    code, stdout, err = cpc(capsys, "case", "export", "cpc-123", "--out", str(out))
    entries = len(db.audit_entries(REF))
    pdf, js = out / f"{REF}-case-bundle.pdf", out / f"{REF}-case-bundle.json"
    assert (code, err) == (0, "")
    assert stdout == f"{REF}: wrote {pdf} and {js} ({entries} audit entries)\n"
    return cw, pdf, js


def test_the_pdf_holds_every_citation_the_reasons_and_the_verification(
    exported: tuple[Casework, Path, Path], db: SqlStore
) -> None:
    cw, pdf, _ = exported
    text = pdf_text(pdf)
    view = cw.system_view(REF)
    assert {t.process for t in view.timelines} == {"dissent", "complaint"}
    deadlines = [d for t in view.timelines for d in t.deadlines]
    assert len(deadlines) >= 10
    for d in deadlines:
        citation = cite_text(d.rule.source, d.area)
        assert "Pan-Sussex Child Protection and Safeguarding Procedures, 5.7." in citation
        assert f"Source: {plain(citation)}" in text, d.id
        assert plain(d.title) in text, d.id
    assert f"Reasons: {DECISION_REASONS}" in text
    assert "Dissent not upheld, by oid-hos" in text
    # The characters the core font lacks are printed plainly; '½' it has.
    assert "The threshold isn't met - the plan rests on ½ of the evidence..." in text
    assert f"Summary: {REDACTED}" in text
    total = len(db.audit_entries())
    assert f"The audit log at export: audit log intact: {total} entries, {total} signed in 1 key segment(s)" in text
    dissent_window = view.timelines[0].get("dissent-window")
    assert plain(dissent_window.explanation) in text
    assert "Thu 17 Dec 2026, 16:00" in text  # UK time, as people read it
    assert "001_554f9f91afccd8e1" not in text  # people never see a seed file's name


def test_the_json_verifies_with_the_key_alone(
    exported: tuple[Casework, Path, Path],
    db: SqlStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, _, js = exported
    doc = json.loads(js.read_text(encoding="utf-8"))
    entries = doc["content"]["audit"]["entries"]
    assert [e["seq"] for e in entries] == [e.seq for e in db.audit_entries(REF)]
    seqs = [e["seq"] for e in entries]
    assert any(b - a > 1 for a, b in itertools.pairwise(seqs))  # not contiguous in the log
    stored = {e.seq: e for e in db.audit_entries()}
    for e in entries:
        assert e["mac"] == stored[e["seq"]].mac and e["prev_mac"] == stored[e["seq"] - 1].mac
    assert doc["content"]["decisions"][0]["reasons"] == DECISION_REASONS
    # The recipient has no database: only the file and the key.
    monkeypatch.setenv("CPC_DATABASE_URL", "sqlite:////nonexistent/dir/no.sqlite3")
    code, out, err = cpc(capsys, "audit", "verify", "--bundle", str(js))
    assert (code, err) == (0, "")
    assert out.startswith(
        f"case bundle intact: case {REF}, exported Wed 20 Jan 2027, 12:00: {len(entries)} audit entries"
    )
    assert out.count("\n") == 1


def _flip(text: str, at: int) -> str:
    """One byte changed (ASCII letters and digits only, so the file stays UTF-8)."""
    ch = text[at]
    assert ch.isascii() and ch.isalnum(), ch
    return text[:at] + ("x" if ch != "x" else "y") + text[at + 1 :]


def test_one_byte_changed_fails_naming_where(
    exported: tuple[Casework, Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, _, js = exported
    original = js.read_text(encoding="utf-8")
    doc = json.loads(original)
    bad = tmp_path / "bad.json"

    def verify(text: str) -> tuple[int, list[str]]:
        bad.write_bytes(text.encode("utf-8"))
        code, out, err = cpc(capsys, "audit", "verify", "--bundle", str(bad))
        assert err == "" and "Traceback" not in out
        return code, out.splitlines()

    # In a timeline's explanation: only the bundle's own MAC covers it.
    n_entries = len(doc["content"]["audit"]["entries"])
    explanation = doc["content"]["timelines"][0]["deadlines"][0]["explanation"]
    code, lines = verify(_flip(original, original.index(explanation) + 7))
    assert code == 1
    assert lines == [
        "audit: bundle content: does not match the bundle's MAC (changed after it was exported)",
        f"case bundle FAILED verification: 1 problem(s); case {REF}, {n_entries} audit entries",
    ]

    # In an entry's detail: that entry's MAC and the bundle's both fail, the entry named by its position.
    decided = next(e for e in doc["content"]["audit"]["entries"] if e["action"] == "dissent.not_upheld")
    # The entry holds the reasons' hash, not the reasons (they live in their record): change the hash.
    at = original.index(decided["detail"]["reasons_sha256"], original.index('"entries"'))
    code, lines = verify(_flip(original, at + 4))
    assert code == 1
    assert lines[:2] == [
        f"audit: position {decided['seq']}: MAC does not match (edited, moved or re-signed without the key)",
        "audit: bundle content: does not match the bundle's MAC (changed after it was exported)",
    ]

    # A byte the JSON reader cannot see (indentation) still fails: the file is not as exported.
    code, lines = verify(original.replace("\n  ", "\n\t", 1))
    assert code == 1 and lines[0].startswith("audit: bundle file: not byte for byte as exported")

    # A byte that breaks the JSON: one line, exit 1, no traceback.
    code, lines = verify("[" + original[1:])
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"case bundle FAILED verification: {bad} does not parse as JSON (line 2, column")
    code, lines = verify(json.dumps({"format": "cpc-case-bundle/1", "content": {}, "mac": {}}))
    assert (code, lines) == (
        1,
        [f"case bundle FAILED verification: {bad} is not a case bundle: content has no 'audit'"],
    )
    bad.write_bytes(original.encode("utf-8").replace(b"Pan-Sussex", b"Pan-Sussex\xff", 1))
    code, out, _ = cpc(capsys, "audit", "verify", "--bundle", str(bad))
    assert (code, out) == (1, f"case bundle FAILED verification: {bad} is not UTF-8 text (changed or damaged)\n")


def test_a_wrong_key_or_none_fails(
    exported: tuple[Casework, Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, js = exported
    doc = json.loads(js.read_text(encoding="utf-8"))
    monkeypatch.setenv("CPC_AUDIT_KEY", "another-key-" + "f" * 40)
    code, out, err = cpc(capsys, "audit", "verify", "--bundle", str(js))
    assert (code, err) == (1, "")
    kid = doc["mac"]["key_id"]
    lines = out.splitlines()
    first = doc["content"]["audit"]["entries"][0]["seq"]
    assert lines[0] == f"audit: position {first}: signed with key {kid}, which was not given"
    assert lines[-2] == f"audit: bundle content: signed with key {kid}, which was not given"
    assert lines[-1].startswith("case bundle FAILED verification:")

    monkeypatch.delenv("CPC_AUDIT_KEY")
    monkeypatch.delenv("CPC_AUDIT_KEY_FILE", raising=False)
    code, out, err = cpc(capsys, "audit", "verify", "--bundle", str(js))
    assert (code, out) == (2, "")
    assert err == "cpc: error: set CPC_AUDIT_KEY (or CPC_AUDIT_KEY_FILE) to the audit key the bundle was signed with\n"
    code, out, err = cpc(capsys, "audit", "verify", "--bundle", str(js.with_name("missing.json")))
    assert code == 2 and err.count("\n") == 1 and "file not found" in err


def test_export_of_an_unknown_case_is_refused(db: SqlStore, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cpc(capsys, "case", "export", "CPC-404", "--out", str(tmp_path / "x"))
    assert (code, out) == (2, "")
    assert err == "cpc: error: there is no conference CPC-404 on record; check the case reference\n"
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("1½ hours", "1½ hours"),
        ("isn’t – “so”…", 'isn\'t - "so"...'),
        ("ﬁle → next", "file -> next"),
        ("café", "café"),
        ("漢", "?"),
    ],
)
def test_what_the_core_font_cannot_print_is_printed_plainly(text: str, printed: str) -> None:
    assert plain(text) == printed
    printed.encode("latin-1")


def test_the_export_reads_the_log_in_pages_and_writes_the_same_bundle(
    db: SqlStore, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export verifies the whole log as ``cpc audit verify`` does, a page at a time: with pages of
    two entries its JSON is byte for byte the one written with the default page."""
    build_case(db)
    whole, paged = tmp_path / "whole", tmp_path / "paged"
    assert cpc(capsys, "case", "export", REF, "--out", str(whole))[0] == 0
    monkeypatch.setattr(audit_log, "AUDIT_PAGE", 2)
    assert cpc(capsys, "case", "export", REF, "--out", str(paged))[0] == 0
    name = f"{REF}-case-bundle.json"
    assert len(db.audit_entries()) > 2
    assert (paged / name).read_bytes() == (whole / name).read_bytes()
    assert '"intact": true' in (paged / name).read_text(encoding="utf-8")
