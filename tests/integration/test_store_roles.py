"""``cpc db roles``: the application's PostgreSQL role may append to and read the audit log, and nothing more.

Each PostgreSQL test has its own schema (``postgres_schema_url``) and roles named with a random suffix,
dropped afterwards, so it can share the server with a CI run. Connections as the application role
need no password because the test server trusts local connections; the password test reads the stored
verifier instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from psycopg import errors as pg_errors
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import ProgrammingError

from app.cli import main
from store.engine import make_engine
from store.errors import RolesRefused
from store.migrate import upgrade
from store.models import Base
from store.roles import APPEND_ONLY_TRIGGER, AUDIT_PRIVILEGES, grant_app_role, table_privileges
from store.sql import open_store


def cpc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def new_role(postgres_admin: Engine, postgres_schema_url: str) -> Iterator[Callable[[], str]]:
    """Unique role names; every one that was created is dropped (with its grants) after the test, while
    the test's schema still exists (this fixture's teardown runs before ``postgres_schema_url``'s)."""
    made: list[str] = []

    def name() -> str:
        made.append(f"cpc_test_role_{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield name
    with postgres_admin.connect() as conn:
        for role in made:
            if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
                conn.execute(text(f'DROP OWNED BY "{role}"'))
                conn.execute(text(f'DROP ROLE "{role}"'))


def as_role(url: str, role: str) -> str:
    """The same database and schema (search_path), connecting as ``role``."""
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def refused(engine: Engine, sql: str) -> str:
    """Run ``sql`` expecting PostgreSQL to refuse it for want of privilege (SQLSTATE 42501)."""
    with pytest.raises(ProgrammingError) as caught, engine.begin() as conn:
        conn.execute(text(sql))
    assert isinstance(caught.value.orig, pg_errors.InsufficientPrivilege), caught.value
    return str(caught.value.orig)


def test_the_audit_tables_get_only_what_the_append_path_needs() -> None:
    plan = table_privileges()
    assert set(plan) == set(Base.metadata.tables) | {"alembic_version"}
    assert plan["audit_log"] == ("SELECT", "INSERT")
    assert plan["audit_head"] == ("SELECT", "INSERT", "UPDATE")  # the one anchor row moves on each append
    assert plan["alembic_version"] == ("SELECT",)
    others = {t: p for t, p in plan.items() if t not in {"audit_log", "audit_head", "alembic_version"}}
    assert others and all(p == ("SELECT", "INSERT", "UPDATE", "DELETE") for p in others.values())


def test_every_audit_table_is_classified() -> None:
    """A new audit table (the head anchor's redesign, say) must not get UPDATE and DELETE by default."""
    audit_tables = {name for name in Base.metadata.tables if name.startswith("audit")}
    assert audit_tables <= set(AUDIT_PRIVILEGES), f"add {audit_tables - set(AUDIT_PRIVILEGES)} to AUDIT_PRIVILEGES"


@pytest.mark.postgres
def test_the_app_role_appends_and_reads_the_audit_log_but_cannot_change_it(
    postgres_schema_url: str,
    new_role: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    upgrade(postgres_schema_url)
    role = new_role()
    done = grant_app_role(postgres_schema_url, role)
    assert done.created and done.trigger == "created"
    app_url = as_role(postgres_schema_url, role)

    # The service's own path, as the app role: open the store (a no-op upgrade), audited actions
    # (each appends an entry and moves the head anchor), then verification reads the whole log.
    monkeypatch.setenv("CPC_DATABASE_URL", app_url)
    chair = ("--id", "oid-chair", "--email", "chair@example.org", "--role", "chair@sussex")
    assert cpc(capsys, "people", "add", *chair)[0] == 0
    assert cpc(capsys, "people", "add", "--id", "oid-pc", "--email", "pc@example.org", "--agency", "police")[0] == 0
    code, out, _ = cpc(capsys, "audit", "verify")
    assert code == 0 and "audit log intact: 2 entries, 2 signed in 1 key segment(s)" in out

    app = make_engine(app_url)
    try:
        with app.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == role
        assert "permission denied for table audit_log" in refused(app, "UPDATE audit_log SET actor = 'someone else'")
        refused(app, "DELETE FROM audit_log WHERE seq = 2")
        refused(app, "TRUNCATE audit_log")
        refused(app, "DELETE FROM audit_head")
        refused(app, "TRUNCATE audit_head")
        refused(app, f"ALTER TABLE audit_log DISABLE TRIGGER {APPEND_ONLY_TRIGGER}")  # not the owner
        refused(app, "DROP TABLE audit_log")
        refused(app, "CREATE TABLE shadow_log (seq integer)")  # no CREATE on the schema
        refused(app, "UPDATE alembic_version SET version_num = 'x'")
        # The ordinary tables are the service's to change.
        with app.begin() as conn:
            changed = conn.execute(text("UPDATE people SET display_name = 'Chair' WHERE id = 'oid-chair'"))
            assert changed.rowcount == 1
            assert conn.execute(text("DELETE FROM role_grants WHERE person_id = 'oid-chair'")).rowcount == 1
    finally:
        app.dispose()

    code, out, _ = cpc(capsys, "audit", "verify")
    assert code == 0 and "audit log intact: 2 entries" in out
    with open_store(app_url) as store:
        entries = list(store.iter_audit())
        head = store.audit_head()
    assert [e.seq for e in entries] == [1, 2] and head == (2, entries[-1].hash)


@pytest.mark.postgres
def test_the_trigger_stops_even_the_owner_until_the_owner_disables_it(
    postgres_schema_url: str, new_role: Callable[[], str]
) -> None:
    """Defence in depth only: it stops a stray UPDATE by the owner, not an owner who means it."""
    upgrade(postgres_schema_url)
    role = new_role()
    grant_app_role(postgres_schema_url, role)
    owner = make_engine(postgres_schema_url)
    try:
        with open_store(postgres_schema_url) as store:
            store.append_audit("aad-1", "dissent.raised", "CPC-1", {})
        assert "the audit log is append-only: UPDATE on audit_log refused" in refused(
            owner, "UPDATE audit_log SET actor = 'x'"
        )
        assert "DELETE on audit_log refused" in refused(owner, "DELETE FROM audit_log")
        assert "TRUNCATE on audit_log refused" in refused(owner, "TRUNCATE audit_log")
        with owner.begin() as conn:
            conn.execute(text(f"ALTER TABLE audit_log DISABLE TRIGGER {APPEND_ONLY_TRIGGER}"))
            assert conn.execute(text("UPDATE audit_log SET actor = 'x'")).rowcount == 1
    finally:
        owner.dispose()
    # Running the command again puts it back, and changes nothing else.
    again = grant_app_role(postgres_schema_url, role)
    assert not again.created and again.trigger == "enabled again"
    assert grant_app_role(postgres_schema_url, role).trigger == "present"


@pytest.mark.postgres
def test_cpc_db_roles_sets_a_scram_password_from_the_environment_and_can_be_rerun(
    postgres_schema_url: str,
    postgres_admin: Engine,
    new_role: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CPC_DATABASE_URL", postgres_schema_url)
    assert cpc(capsys, "db", "upgrade")[0] == 0
    role = new_role()
    monkeypatch.setenv("CPC_TEST_APP_PASSWORD", "it's a secret")
    code, out, err = cpc(capsys, "db", "roles", "--app-role", role, "--password-env", "CPC_TEST_APP_PASSWORD")
    assert (code, err) == (0, "")
    assert f"role {role} created, password set" in out
    assert "  audit_log: SELECT, INSERT\n" in out and "  audit_head: SELECT, INSERT, UPDATE\n" in out
    code, out, _ = cpc(capsys, "db", "roles", "--app-role", role)
    assert code == 0 and f"role {role} already existed;" in out and "password set" not in out
    with postgres_admin.connect() as conn:
        row = conn.execute(
            text(
                "SELECT rolpassword, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb "
                "FROM pg_authid WHERE rolname = :r"
            ),
            {"r": role},
        ).one()
    # The verifier, computed client-side; the second run left it alone.
    assert row.rolpassword.startswith("SCRAM-SHA-256$") and "secret" not in row.rolpassword
    assert (row.rolcanlogin, row.rolsuper, row.rolcreaterole, row.rolcreatedb) == (True, False, False, False)


@pytest.mark.postgres
def test_a_role_that_could_do_more_is_refused_and_nothing_changes(
    postgres_schema_url: str, postgres_admin: Engine, new_role: Callable[[], str]
) -> None:
    with pytest.raises(RolesRefused, match="run 'cpc db upgrade' first"):
        grant_app_role(postgres_schema_url, new_role())
    upgrade(postgres_schema_url)
    with pytest.raises(RolesRefused, match="lower-case name"):
        grant_app_role(postgres_schema_url, 'x"; DROP TABLE audit_log; --')
    with pytest.raises(RolesRefused, match="the role running this command"):
        grant_app_role(postgres_schema_url, "postgres")  # the test server's superuser owns the schema

    superuser, member, table_owner = new_role(), new_role(), new_role()
    with postgres_admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{superuser}" LOGIN SUPERUSER'))
        conn.execute(text(f'CREATE ROLE "{member}" LOGIN'))
        conn.execute(text(f'GRANT postgres TO "{member}"'))
        conn.execute(text(f'CREATE ROLE "{table_owner}" LOGIN'))
    owner = make_engine(postgres_schema_url)
    try:
        with owner.begin() as conn:
            conn.execute(text(f'ALTER TABLE people OWNER TO "{table_owner}"'))
        with pytest.raises(RolesRefused, match="is a superuser"):
            grant_app_role(postgres_schema_url, superuser)
        with pytest.raises(RolesRefused, match="owns schema"):
            grant_app_role(postgres_schema_url, member)
        with pytest.raises(RolesRefused, match=r"owns \(or is a member of the owner of\) people"):
            grant_app_role(postgres_schema_url, table_owner)
        # A privilege held another way than by a grant to the role itself is found by the check afterwards.
        public = new_role()
        with owner.begin() as conn:
            conn.execute(text("GRANT UPDATE ON audit_log TO PUBLIC"))
        with pytest.raises(RolesRefused, match="would still hold UPDATE on audit_log"):
            grant_app_role(postgres_schema_url, public)
        with owner.connect() as conn:
            assert conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": public}).first() is None
            # Rolled back as one: no trigger, and no grant on the audit log for the refused role.
            installed = conn.execute(
                text(
                    "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE c.relnamespace = current_schema()::regnamespace AND t.tgname = :n"
                ),
                {"n": APPEND_ONLY_TRIGGER},
            ).scalar()
            assert installed == 0
            assert not conn.execute(
                text("SELECT has_table_privilege(:r, 'audit_log', 'INSERT')"), {"r": table_owner}
            ).scalar()
    finally:
        owner.dispose()


def test_sqlite_has_no_roles_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "var" / "cpc.sqlite3"
    monkeypatch.setenv("CPC_DATABASE_URL", f"sqlite:///{path}")
    code, out, err = cpc(capsys, "db", "roles")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "SQLite has no database roles" in err
    assert not path.exists()  # refused before a database file was made


def test_db_roles_options_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CPC_DATABASE_URL", f"sqlite:///{tmp_path / 'cpc.sqlite3'}")
    monkeypatch.delenv("CPC_NO_SUCH_PASSWORD", raising=False)
    code, _, err = cpc(capsys, "db", "roles", "--password-env", "CPC_NO_SUCH_PASSWORD")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "CPC_NO_SUCH_PASSWORD" in err
    code, _, err = cpc(capsys, "db", "upgrade", "--app-role", "cpc_app")
    assert code == 2 and "options of 'cpc db roles'" in err
