"""Citations in the words a reader knows: the document's name and paragraph, never a file name.

A pack's rules cite their procedure as the seed file it was written from and a paragraph
(``001_554f9f91afccd8e1.txt 5.7.4``): exact, and what ``cpc timeline --json`` keeps in ``source``.
People read the procedure's name instead: "Pan-Sussex Child Protection and Safeguarding Procedures,
5.7.4", a link where the pack gives the procedure's public address. Each pack's ``[area]`` names its
document (``source_title``, ``source_url``, and ``source_cited_as`` when its rules cite it by
something other than the seed file, as ``england-statutory`` cites ``SI 2006/1738``);
:func:`casework.packs.resolve_packs` gives every area the whole catalogue, since one citation may
name several documents (``000_... §2; 001_... 5.7.10``).

Only the names the catalogue knows are turned into titles; any other text passes through as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

#: A public address a card or an email may link to: http(s), and nothing that could end a Markdown link.
SAFE_URL = re.compile(r"https?://[^\s()<>\[\]\"'`\\]+")


@dataclass(frozen=True, slots=True)
class Document:
    """A procedure as its pack names it: ``key`` is how sources cite it (the seed file, or e.g.
    ``SI 2006/1738``), ``title`` what a reader calls it, ``url`` its public address if known."""

    key: str
    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Citation:
    """One cited document and paragraph; ``title`` is None for text that names no known document."""

    paragraph: str
    title: str | None = None
    url: str | None = None
    key: str | None = None

    @property
    def text(self) -> str:
        if self.title is None:
            return self.paragraph
        return f"{self.title}, {self.paragraph}" if self.paragraph else self.title


class Cites(Protocol):
    """What can cite: an :class:`~casework.areas.Area` (its ``documents``) or any such holder."""

    @property
    def documents(self) -> Mapping[str, Document]: ...


Where = Mapping[str, Document] | Cites


def documents_of(where: Where) -> Mapping[str, Document]:
    return where if isinstance(where, Mapping) else where.documents


@lru_cache(maxsize=64)
def _pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    """Every way the documents are cited: each key, and a seed file's name without ``.txt``;
    longest first, so that ``001_x.txt`` is never read as ``001_x`` followed by text."""
    forms = {k for k in keys} | {k.removesuffix(".txt") for k in keys if k.endswith(".txt")}
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![\w.])(?P<key>{alternatives})(?![\w/])(?P<gap>[ \t]*)")


def _matches(text: str, docs: Mapping[str, Document]) -> list[tuple[re.Match[str], Document]]:
    if not docs or not text:
        return []
    lookup = {**{k.removesuffix(".txt"): d for k, d in docs.items()}, **docs}
    return [(m, lookup[m.group("key")]) for m in _pattern(tuple(sorted(docs))).finditer(text)]


def cite(source: str, where: Where) -> tuple[Citation, ...]:
    """The documents and paragraphs ``source`` cites, in order, for a card to show (and link).

    ``"001_554f9f91afccd8e1.txt 5.7.23, 5.7.28"`` gives one :class:`Citation` (Pan-Sussex, "5.7.23,
    5.7.28"); ``"000_... §2; 001_... 5.7.10"`` gives two. Text before the first known document, or a
    source naming none, is a citation with no title.
    """
    found = _matches(source, documents_of(where))
    if not found:
        text = source.strip()
        return (Citation(text),) if text else ()
    out: list[Citation] = []
    prefix = source[: found[0][0].start()].strip(" \t;,")
    if prefix:
        out.append(Citation(prefix))
    for i, (m, doc) in enumerate(found):
        end = found[i + 1][0].start() if i + 1 < len(found) else len(source)
        paragraph = source[m.end() : end].strip().rstrip(";,").rstrip()
        out.append(Citation(paragraph, doc.title, doc.url, doc.key))
    return tuple(out)


def cite_text(text: str, where: Where) -> str:
    """``text`` with each document it cites named by its title: for a source, a note or a message.

    "... agreed. 000_263c99b8cdce9ba9.txt §1." reads "... agreed. <title>, §1."; everything else in
    the text is kept as it is.
    """
    found = _matches(text, documents_of(where))
    if not found:
        return text
    out: list[str] = []
    at = 0
    for m, doc in found:
        out.append(text[at : m.start()])
        following = text[m.end() : m.end() + 1]
        paragraph_follows = bool(following) and (following.isalnum() or following in "§'\"")
        out.append(f"{doc.title}, " if paragraph_follows else doc.title + m.group("gap"))
        at = m.end()
    out.append(text[at:])
    return "".join(out)


def own_only(citations: tuple[Citation, ...], own: tuple[str, ...]) -> tuple[Citation, ...]:
    """The citations of the area's own documents (keys ``own``), when there are any; else all of them."""
    mine = tuple(c for c in citations if c.key in own)
    return mine or citations


def titles(citations: tuple[Citation, ...]) -> str | None:
    """The documents' titles, each once, in order ("; " between them); None when none is known."""
    names = list(dict.fromkeys(c.title for c in citations if c.title))
    return "; ".join(names) if names else None


def first_url(citations: tuple[Citation, ...]) -> str | None:
    return next((c.url for c in citations if c.url), None)


__all__ = [
    "SAFE_URL",
    "Citation",
    "Cites",
    "Document",
    "Where",
    "cite",
    "cite_text",
    "documents_of",
    "first_url",
    "own_only",
    "titles",
]
