"""Long lists of keys go to PostgreSQL as one array (store.statements.among): the statement's text is
the same for 3 keys as for 500, so SQLAlchemy renders no bind per key and psycopg prepares it once
(issue 12: a manager's ``deadlines`` loads 500 cases in five reads)."""

from __future__ import annotations

from sqlalchemy import create_engine, select
from sqlalchemy.sql.compiler import Compiled

from store.models import ConferenceRow
from store.statements import among

_REF = ConferenceRow.__table__.c.reference
# Dialects only: neither engine ever connects.
_DIALECTS = {
    name: create_engine(url).dialect
    for name, url in (("postgresql", "postgresql+psycopg://u@h/d"), ("sqlite", "sqlite://"))
}


def compiled(keys: list[str], dialect: str) -> Compiled:
    # As sent: with expanding IN lists rendered out, one bind per key, as the driver would get them.
    statement = select(_REF).where(among(_REF, keys, dialect))
    return statement.compile(dialect=_DIALECTS[dialect], compile_kwargs={"render_postcompile": True})


def test_on_postgresql_the_text_does_not_grow_with_the_keys() -> None:
    few = compiled(["CPC-1", "CPC-2", "CPC-3"], "postgresql")
    many = compiled([f"CPC-{i}" for i in range(500)], "postgresql")
    assert str(few) == str(many) and "= ANY (" in str(few)
    assert list(few.params.values()) == [["CPC-1", "CPC-2", "CPC-3"]]  # one parameter: the whole list


def test_sqlite_expands_them() -> None:
    assert " IN (" in str(compiled(["CPC-1"], "sqlite"))
