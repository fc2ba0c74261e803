"""Database fixtures for integration tests: one URL (or store) per backend, each test on a fresh database.

PostgreSQL tests run whenever the server is reachable. Without it they skip, except in CI
(``CI=true``), where a skip would hide that they never ran, so they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from store.sql import SqlStore, open_store

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The server to test against: ``CPC_TEST_POSTGRES_URL`` or the local default, psycopg 3 driver."""
    url = make_url(os.environ.get("CPC_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _unavailable(reason: str) -> NoReturn:
    where = make_url(postgres_url()).render_as_string(hide_password=True)
    message = f"PostgreSQL at {where} is unreachable: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{message}. CI must run the PostgreSQL tests: start the server or set CPC_TEST_POSTGRES_URL.",
            pytrace=False,
        )
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An autocommit engine on the test server, for creating and dropping per-test schemas."""
    engine = create_engine(postgres_url(), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        _unavailable(str(exc.orig).strip() or type(exc.orig).__name__)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_schema_url(postgres_admin: Engine) -> Iterator[str]:
    """A URL whose connections see only a new, empty schema, dropped after the test."""
    schema = f"cpc_test_{uuid.uuid4().hex[:16]}"
    with postgres_admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with postgres_admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database on each backend. The SQLite file's directory does not exist yet,
    as ``var/`` does not on a fresh checkout."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'cpc.sqlite3'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """A migrated, empty store on each backend."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()
