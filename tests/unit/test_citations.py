"""Citations by the procedure's name and paragraph (casework.citations), and the packs that name them."""

from __future__ import annotations

from typing import Any

from cards.render import link
from casework.citations import Citation, Document, cite, cite_text, own_only
from casework.packs import Area, build_area, resolve_packs

S0, S1, S4 = "000_263c99b8cdce9ba9.txt", "001_554f9f91afccd8e1.txt", "004_974a7b50b4cfbdbf.txt"
SUSSEX = Document(
    S1, "Pan-Sussex Child Protection and Safeguarding Procedures", "http://sussexchildprotection.procedures.org.uk"
)
LONDON = Document(S4, "London Child Protection Procedures")
DOCS = {S1: SUSSEX, S4: LONDON}

# The title each shipped pack gives its procedure, and its address (None: none is verified).
SHIPPED = {
    "sussex": (S1, SUSSEX.title, SUSSEX.url),
    "hipps": (
        S0,
        "4LSCB Child Protection Procedures 8.1 (Complaints/Challenge about Child Protection Conferences)",
        None,
    ),
    "hampshire": (
        S0,
        "4LSCB Child Protection Procedures 8.1 (Complaints/Challenge about Child Protection Conferences)",
        None,
    ),
    "london": (S4, "London Child Protection Procedures", None),
    "oxfordshire": (
        "002_9e481681acd141e8.txt",
        "Oxfordshire Safeguarding Children Board: Complaints by children and/or parents in relation to Child "
        "Protection Conferences",
        None,
    ),
    "city-hackney": (
        "003_0821576c46541519.txt",
        "City and Hackney Safeguarding Children Board: Child Protection Conference Complaints Representation by "
        "professionals",
        None,
    ),
    "england-statutory": (
        "SI 2006/1738",
        "The Children Act 1989 Representations Procedure (England) Regulations 2006",
        "https://www.legislation.gov.uk/uksi/2006/1738",
    ),
}


def test_one_document_and_its_paragraphs() -> None:
    assert cite(f"{S1} 5.7.23, 5.7.28", DOCS) == (Citation("5.7.23, 5.7.28", SUSSEX.title, SUSSEX.url, S1),)
    assert cite_text(f"{S1} 5.7.4", DOCS) == "Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.4"


def test_several_documents_in_one_source() -> None:
    parts = cite(f"{S1} 5.7.7(2); {S4} 8.13.1", DOCS)
    assert [(c.title, c.paragraph) for c in parts] == [(SUSSEX.title, "5.7.7(2)"), (LONDON.title, "8.13.1")]
    assert cite_text(f"{S1} 5.7.7(2); {S4} 8.13.1", DOCS) == f"{SUSSEX.title}, 5.7.7(2); {LONDON.title}, 8.13.1"


def test_unknown_text_passes_through_and_a_bare_stem_is_known() -> None:
    assert cite("099_0000000000000000.txt 1.2", DOCS) == (Citation("099_0000000000000000.txt 1.2"),)
    assert cite_text("no citation here", DOCS) == "no citation here"
    assert cite("", DOCS) == ()
    assert cite_text("001_554f9f91afccd8e1 5.7.4", DOCS) == f"{SUSSEX.title}, 5.7.4"
    assert cite("see 004_974a7b50b4cfbdbf.txt 8.17", DOCS) == (
        Citation("see"),
        Citation("8.17", LONDON.title, None, S4),
    )


def test_names_inside_prose_are_replaced_and_the_rest_kept() -> None:
    note = f"Extendable (reg 14); record it when agreed. {S4} 8.14.14. Then {S1}."
    assert (
        cite_text(note, DOCS)
        == f"Extendable (reg 14); record it when agreed. {LONDON.title}, 8.14.14. Then {SUSSEX.title}."
    )


def test_own_procedure_first() -> None:
    parts = cite(f"{S1} 5.7.7(2); {S4} 8.13.1", DOCS)
    assert [c.title for c in own_only(parts, (S4,))] == [LONDON.title]
    assert own_only(parts, ("003_0821576c46541519.txt",)) == parts  # none of its own: all of them


def test_card_link_is_escaped_and_only_for_plain_addresses() -> None:
    assert link("Pan-Sussex, 5.7.7(2)", SUSSEX.url) == f"[Pan-Sussex, 5.7.7\\(2\\)]({SUSSEX.url})"
    assert link("x", "javascript:alert(1)") == "x"
    assert link("x", "http://a.example/b) [evil](http://e") == "x"
    assert link("x", None) == "x"


def test_every_shipped_pack_names_its_procedure(areas: dict[str, Area]) -> None:
    assert set(SHIPPED) == set(areas)
    for area_id, (key, title, url) in SHIPPED.items():
        doc = areas[area_id].document
        assert doc == Document(key, title, url), area_id
        # ... and every area can name every pack's procedure (a citation may name another's).
        assert {d.key for d in areas[area_id].documents.values()} == {k for k, _, _ in SHIPPED.values()}


def test_the_json_keeps_source_beside_its_title_and_address(areas: dict[str, Area], run: Any) -> None:
    d = run("sussex", "dissent", conference_held="2026-12-17T14:00").get("dissent-decision").as_dict()
    assert d["source"] == f"{S1} 5.7.7(3)-(4)"
    assert d["source_title"] == SUSSEX.title and d["source_url"] == SUSSEX.url
    d = run("england-statutory", "complaint", complaint_received="2026-12-17T14:00").get("stage1-response").as_dict()
    assert d["source"].startswith("SI 2006/1738 reg")
    assert d["source_title"] == SHIPPED["england-statutory"][1]
    assert d["source_url"] == "https://www.legislation.gov.uk/uksi/2006/1738"


def _pack(area_id: str, **head: Any) -> dict[str, Any]:
    rule = {"id": "r", "process": "dissent", "kind": "window", "title": "t", "within": "72 hours"}
    rule |= {"of": "conference_held", "completed_by": "dissent_raised", "responsible": "professional"}
    rule |= {"source": f"{S1} 5.7.4"}
    return {"area": {"id": area_id, "name": area_id, "nation": "ENG", "seed": S1} | head, "rules": [rule]}


def test_a_child_inherits_its_parents_document_and_a_bad_address_is_refused() -> None:
    parent = _pack("p", source_title="P procedures", source_url="https://p.example/procs")
    child = _pack("c", extends="p") | {"rules": []}
    areas, errors = resolve_packs({"p": (parent, "p.toml"), "c": (child, "c.toml")})
    assert errors == []
    assert areas["c"].document == Document(S1, "P procedures", "https://p.example/procs")
    assert cite_text(f"{S1} 5.7.4", areas["c"]) == "P procedures, 5.7.4"
    _, errs = build_area(_pack("x", source_title="X", source_url="http://x.example/a b"), "x.toml")
    assert [e.key for e in errs] == ["area.source_url"]
    area, errs = build_area(_pack("y"), "y.toml")  # no title: the pack still loads, its sources pass through
    assert errs == [] and area is not None and area.document is None
    assert cite_text(f"{S1} 5.7.4", area) == f"{S1} 5.7.4"


def test_two_packs_naming_one_document_differently_is_an_error() -> None:
    raws = {
        "a": (_pack("a", source_title="A title"), "a.toml"),
        "b": (_pack("b", source_title="Another title"), "b.toml"),
    }
    areas, errors = resolve_packs(raws)
    assert set(areas) == {"a"}
    assert [(e.origin, e.key) for e in errors] == [("b.toml", "area.source_title")]
    assert "'A title'" in str(errors[0])
