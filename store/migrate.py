"""Run the Alembic migrations from Python: ``cpc`` and the tests call these, nobody needs alembic.ini.

The configuration is built here, pointing at the ``migrations`` folder beside this file, so an
installed package migrates the same way as a checkout.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, text

from store.engine import SQLITE_BEGIN, TIMEOUTS, make_engine, sqlite_file

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key: two instances starting together must not both create the tables.
MIGRATION_LOCK_KEY = 0x4350_435F_4D49_4752  # "CPC_MIGR"


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic ``Config`` for our migrations, optionally with a URL (for revision autogenerate)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        rendered = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        # ConfigParser interpolation would read a '%' in a password as a placeholder.
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


def head() -> str:
    """The newest revision shipped with this code."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"no Alembic revisions found under {MIGRATIONS}")
    return revision


def upgrade(url: str | URL | Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default); running it again changes nothing.

    The parent directory of a SQLite file is created first. The whole upgrade runs in one
    transaction holding the database's write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL
    advisory lock), so instances started together upgrade once, one after the other.
    """
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        _upgrade(engine, revision)
    finally:
        if engine is not url:
            engine.dispose()


def _upgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # Batch migrations copy and drop tables; with foreign keys enforced that would cascade.
            # The pragma is ignored inside a transaction, so it goes straight to the driver first.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            conn = conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        # A migration may take longer than a request's statement limit, and waits for another
        # instance's migration lock as long as it takes.
        conn = conn.execution_options(**{TIMEOUTS: {"statement_timeout": 0, "lock_timeout": 0}})
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def current(url: str | URL | Engine) -> str | None:
    """The revision the database is at, or None when it has never been migrated (or does not exist)."""
    if not isinstance(url, Engine):
        path = sqlite_file(url)
        if path is not None and not path.exists():
            return None  # do not create an empty file just to look at it
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        if engine is not url:
            engine.dispose()
