"""No column could hold a child's or a family member's name: the store keeps case references only.

Checked three ways, so that no route round it goes unnoticed: the attribute names written in
``store/models.py``, the columns the models declare, and the columns the migration really creates.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import inspect

from store.engine import make_engine
from store.migrate import upgrade
from store.models import Base

MODELS = Path(__file__).resolve().parents[2] / "store" / "models.py"

# Name-like or identifying fields about a child or family. ``display_name`` (a professional's name
# in Teams) and ``name`` (of an event) are allowed on purpose.
FORBIDDEN = re.compile(
    r"child|famil|parent_name|mother|father|surname|forename|first_?name|last_?name|given_?name"
    r"|middle_?name|maiden|full_?name|nick_?name|dob|date_of_birth|birth_?date|nhs|address|postcode"
    r"|ni_?number|national_insurance",
    re.IGNORECASE,
)


def forbidden(names: set[str]) -> list[str]:
    return sorted(n for n in names if FORBIDDEN.search(n))


def model_attribute_names(source: str) -> set[str]:
    """Annotated class attributes (the ``Mapped[...]`` columns) and explicit column names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "mapped_column":
            names.update(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return names


@pytest.mark.parametrize(
    "name", ["child_name", "family_name", "surname", "first_name", "FirstName", "dob", "child_dob"]
)
def test_the_check_catches_name_like_columns(name: str) -> None:
    assert forbidden({name, "reference"}) == [name]


def test_the_check_allows_what_the_records_legitimately_hold() -> None:
    assert forbidden({"display_name", "name", "reference", "complainant_role", "agency", "email"}) == []


def test_models_source_declares_no_name_like_column() -> None:
    names = model_attribute_names(MODELS.read_text(encoding="utf-8"))
    assert {"reference", "email", "display_name", "complainant_role", "detail"} <= names  # it parsed
    assert forbidden(names) == []


def test_model_metadata_has_no_name_like_column() -> None:
    columns = {c.name for table in Base.metadata.tables.values() for c in table.columns}
    assert "reference" in columns
    assert forbidden(columns) == []
    assert forbidden(set(Base.metadata.tables)) == []


def test_migrated_database_has_no_name_like_column(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        columns = {c["name"] for t in tables for c in inspector.get_columns(t)}
    finally:
        engine.dispose()
    assert "audit_log" in tables and "reference" in columns
    assert forbidden(tables | columns) == []
