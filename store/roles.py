"""Least privilege on PostgreSQL: the login role the running bot uses, granted what it needs and no more.

Two roles (README: Configuration, "Two database roles"). The role that owns the schema runs the
migrations (``cpc db upgrade``) and then ``cpc db roles``, which calls :func:`grant_app_role`. The
service connects as the application role it creates, which

- may read and write the ordinary tables (SELECT, INSERT, UPDATE, DELETE) and use their sequences;
- may only read and append to the audit log (SELECT, INSERT on ``audit_log``): no UPDATE, DELETE or
  TRUNCATE, so an instance that is compromised, or a bug, cannot rewrite or shorten the record;
- may read, insert and update the head anchor (``audit_head``), because every append moves the one
  anchor row forward (``AuditRepository.append_audit`` merges it). Not DELETE or TRUNCATE. What UPDATE
  there allows is moving the anchor, which ``cpc audit verify`` reports as a mismatch. It hides nothing,
  because the anchor exists to show that the newest entries were removed, and this role cannot remove
  entries;
- may read ``alembic_version`` (readiness, and the no-op upgrade on start), not change it;
- owns nothing and may create nothing in the schema. A table's owner, or a member of the owner role,
  may do anything to the table (and the schema's owner may drop it), so such a role is refused.

As defence in depth, a statement-level trigger refuses UPDATE, DELETE and TRUNCATE on ``audit_log``
even for its owner, which the grants cannot stop. It prevents accidents (a stray statement typed in psql,
a careless migration), not attacks: the owner or a superuser can disable it
(``ALTER TABLE audit_log DISABLE TRIGGER cpc_audit_log_append_only``). That is why the hash chain and
``cpc audit verify`` remain the actual check. The trigger is installed here rather than by a migration,
so databases that never run ``cpc db roles`` (the SQLite default, and the tests that tamper with the log
to prove that verification notices) are unaffected. Do not count on it in a deployment where nobody ran
this command.

Everything runs in one transaction under the migration lock, so it cannot interleave with an upgrade.
Afterwards every privilege is checked with ``has_table_privilege``, so a privilege the role still holds
some other way (through PUBLIC, or a role it belongs to) makes the command fail and change nothing.
It is idempotent: run it again after every ``cpc db upgrade``, because a new table gets no grants
until it is run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import URL, Connection, Engine, make_url, text

from store.engine import make_engine
from store.errors import RolesRefused, RolesUnsupported
from store.migrate import MIGRATION_LOCK_KEY, head
from store.models import AuditHeadRow, AuditRow, Base

DEFAULT_APP_ROLE = "cpc_app"
ROW_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
# The audit tables get only what the append path needs (see the module docstring).
AUDIT_TABLE = AuditRow.__tablename__
AUDIT_PRIVILEGES: Mapping[str, tuple[str, ...]] = {
    AUDIT_TABLE: ("SELECT", "INSERT"),
    AuditHeadRow.__tablename__: ("SELECT", "INSERT", "UPDATE"),
}
# Alembic's bookkeeping: read by /readyz and by the no-op upgrade the service runs on start.
VERSION_TABLE = "alembic_version"
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")
# Every table privilege PostgreSQL has; the check afterwards requires exactly the granted ones.
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
# A privilege PostgreSQL can also grant on single columns, which has_any_column_privilege sees.
_COLUMN_LEVEL = {"SELECT", "INSERT", "UPDATE", "REFERENCES"}
APPEND_ONLY_TRIGGER = "cpc_audit_log_append_only"
# An unquoted PostgreSQL identifier, lower case, at most 63 bytes (NAMEDATALEN - 1).
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True, slots=True)
class AppRoleGrants:
    """What :func:`grant_app_role` did, for ``cpc db roles`` to print."""

    role: str
    database: str
    schema: str
    created: bool
    password_set: bool
    tables: Mapping[str, tuple[str, ...]]
    sequences: tuple[str, ...]
    trigger: str  # "created", "enabled again" or "present"
    warnings: tuple[str, ...]


def table_privileges() -> dict[str, tuple[str, ...]]:
    """The privileges the application role gets on each table of the schema, by table name."""
    plan = {name: AUDIT_PRIVILEGES.get(name, ROW_PRIVILEGES) for name in sorted(Base.metadata.tables)}
    plan[VERSION_TABLE] = ("SELECT",)
    return plan


def check_role_name(role: str) -> str:
    """Refuse a name that would need quoting, is reserved (``pg_*``) or means everyone (``public``)."""
    if not _ROLE_NAME.fullmatch(role) or role.startswith("pg_") or role == "public":
        raise RolesRefused(
            f"application role {role!r}: expected a lower-case name of letters, digits and _ "
            "(at most 63, not starting with a digit or pg_), such as cpc_app"
        )
    return role


def grant_app_role(
    url_or_engine: str | URL | Engine, role: str = DEFAULT_APP_ROLE, password: str | None = None
) -> AppRoleGrants:
    """Create (or bring up to date) the application's login role in the schema at ``url_or_engine``.

    Connect as the role that owns the schema (the one that runs ``cpc db upgrade``). ``password``,
    when given, is turned into a SCRAM-SHA-256 verifier on this side (libpq's PQencryptPasswordConn,
    as psql's \\password does), so the clear text never reaches the server or its statement log.
    Without it, a new role has no password (for certificate or peer authentication, or for a DBA to
    set one) and an existing role's password is left alone. Raises :class:`RolesUnsupported` on
    SQLite (before a file is created) and :class:`RolesRefused` when the role cannot be made safe.
    """
    if isinstance(url_or_engine, Engine):
        backend = url_or_engine.dialect.name
    else:
        backend = make_url(url_or_engine).get_backend_name()
    if backend != "postgresql":
        raise RolesUnsupported("SQLite" if backend == "sqlite" else backend)
    check_role_name(role)
    engine = url_or_engine if isinstance(url_or_engine, Engine) else make_engine(url_or_engine)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            return _grant(conn, role, password)
    finally:
        if engine is not url_or_engine:
            engine.dispose()


def _grant(conn: Connection, role: str, password: str | None) -> AppRoleGrants:
    revision, wanted = MigrationContext.configure(conn).get_current_revision(), head()
    if revision != wanted:
        at = "has no schema" if revision is None else f"is at {revision}"
        raise RolesRefused(f"the database {at}, the code needs {wanted}: run 'cpc db upgrade' first, as the owner")
    me, database, schema = conn.execute(text("SELECT current_user, current_database(), current_schema()")).one()
    if role == me:
        raise RolesRefused(
            f"application role {role!r} is the role running this command (the one that migrates and owns "
            "the schema): give the service a role of its own (--app-role)"
        )
    q = conn.dialect.identifier_preparer.quote_identifier
    r, s = q(role), q(schema)

    found = conn.execute(
        text("SELECT rolsuper, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    if found is not None and (found.rolsuper or found.rolcreaterole):
        what = "a superuser" if found.rolsuper else "allowed to create roles (and so to grant itself others)"
        raise RolesRefused(f"role {role!r} is {what}; the application role must not be")
    if found is None:
        conn.exec_driver_sql(f"CREATE ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION")
    elif not found.rolcanlogin:
        conn.exec_driver_sql(f"ALTER ROLE {r} LOGIN")
    if password is not None:
        conn.exec_driver_sql(f"ALTER ROLE {r} PASSWORD {_scram_literal(conn, role, password)}")

    schema_owner = conn.execute(
        text(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace "
            "WHERE nspname = :s AND pg_has_role(:r, nspowner, 'MEMBER')"
        ),
        {"s": schema, "r": role},
    ).scalar()
    if schema_owner is not None:
        raise RolesRefused(
            f"role {role!r} is (or is a member of) {schema_owner!r}, which owns schema {schema!r} and may drop "
            "any table in it: give the service a role of its own"
        )

    # Checked here and not only afterwards: REVOKE takes away even an owner's own privileges, so
    # has_table_privilege would then say no, yet the owner could still alter, drop or re-grant.
    owned = list(
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND pg_has_role(:r, c.relowner, 'MEMBER') ORDER BY c.relname"
            ),
            {"s": schema, "r": role},
        ).scalars()
    )
    if owned:
        raise RolesRefused(
            f"role {role!r} owns (or is a member of the owner of) {', '.join(owned)} in schema {schema!r}, and an "
            "owner may do anything to a table: give the service a role of its own"
        )

    plan = table_privileges()
    conn.exec_driver_sql(f"REVOKE ALL ON SCHEMA {s} FROM {r}")
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {s} TO {r}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}")
    for table, privileges in plan.items():
        conn.exec_driver_sql(f"GRANT {', '.join(privileges)} ON TABLE {s}.{q(table)} TO {r}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}")
    conn.exec_driver_sql(f"GRANT {', '.join(SEQUENCE_PRIVILEGES)} ON ALL SEQUENCES IN SCHEMA {s} TO {r}")
    trigger = _append_only_trigger(conn, s)
    _check_exactly(conn, role, schema, plan)

    warnings: list[str] = []
    if conn.execute(text("SELECT has_schema_privilege(:r, :s, 'CREATE')"), {"r": role, "s": schema}).scalar():
        warnings.append(
            f"{role} may still create tables in schema {schema} through PUBLIC (the default before "
            f"PostgreSQL 15): REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC, unless something else needs it"
        )
    return AppRoleGrants(
        role=role,
        database=database,
        schema=schema,
        created=found is None,
        password_set=password is not None,
        tables=plan,
        sequences=SEQUENCE_PRIVILEGES,
        trigger=trigger,
        warnings=tuple(warnings),
    )


def _scram_literal(conn: Connection, role: str, password: str) -> str:
    """The password as a quoted SCRAM-SHA-256 verifier, computed by libpq on this side."""
    from psycopg import sql

    if not password:
        raise RolesRefused("the password for the application role is empty")
    driver: Any = conn.connection.driver_connection
    verifier: bytes = driver.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    return str(sql.Literal(verifier.decode("ascii")).as_string(driver))


def _append_only_trigger(conn: Connection, s: str) -> str:
    """Install (or re-enable) the trigger that refuses UPDATE, DELETE and TRUNCATE on the audit log.

    The function is always replaced (which takes no lock on the table). The trigger is created only
    when it is missing, because CREATE TRIGGER locks the table against the appends of a running
    service.
    """
    # exec_driver_sql passes the text through psycopg's %-placeholders, hence %% for RAISE's %.
    conn.exec_driver_sql(
        f"CREATE OR REPLACE FUNCTION {s}.{APPEND_ONLY_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
        "BEGIN\n"
        "    RAISE EXCEPTION 'the audit log is append-only: %% on %% refused', TG_OP, TG_TABLE_NAME\n"
        "        USING ERRCODE = 'insufficient_privilege',\n"
        "              HINT = 'entries are never edited or removed; a correction is a new entry';\n"
        "END\n"
        "$fn$"
    )
    enabled = conn.execute(
        text(
            "SELECT t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = :table AND t.tgname = :name"
        ),
        {"table": AUDIT_TABLE, "name": APPEND_ONLY_TRIGGER},
    ).scalar()
    if enabled is None:
        conn.exec_driver_sql(
            f"CREATE TRIGGER {APPEND_ONLY_TRIGGER} BEFORE UPDATE OR DELETE OR TRUNCATE ON {s}.{AUDIT_TABLE} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.{APPEND_ONLY_TRIGGER}()"
        )
        return "created"
    if enabled == "D":
        conn.exec_driver_sql(f"ALTER TABLE {s}.{AUDIT_TABLE} ENABLE TRIGGER {APPEND_ONLY_TRIGGER}")
        return "enabled again"
    return "present"


def _check_exactly(conn: Connection, role: str, schema: str, plan: Mapping[str, tuple[str, ...]]) -> None:
    """Refuse (rolling everything back) unless the role holds exactly the planned privileges.

    This reads the effective privileges, including those held through PUBLIC and through the roles
    this role belongs to, which the REVOKEs above cannot remove (ownership was refused earlier).
    """
    q = conn.dialect.identifier_preparer.quote_identifier
    extra: list[str] = []
    for table, wanted in plan.items():
        name = f"{q(schema)}.{q(table)}"
        for privilege in TABLE_PRIVILEGES:
            check = "has_any_column_privilege" if privilege in _COLUMN_LEVEL else "has_table_privilege"
            held = conn.execute(text(f"SELECT {check}(:r, :t, :p)"), {"r": role, "t": name, "p": privilege}).scalar()
            if held and privilege not in wanted:
                extra.append(f"{privilege} on {table}")
            elif not held and privilege in wanted:
                raise RolesRefused(f"granting {privilege} on {table} to {role!r} did not take effect")
    if extra:
        raise RolesRefused(
            f"role {role!r} would still hold {', '.join(extra)} (through PUBLIC or through a role it belongs to); "
            "nothing was changed: revoke those first"
        )
