"""Configuration from the environment and a local ``.env``; secrets from the environment only.

A ``.env`` file sits in a working directory, where it is easily copied, committed, attached to a
ticket or read by anyone with the checkout; the environment of the running process (an App Service
setting, a Key Vault reference, a systemd credential) is where a deployment keeps its secrets. So a
``.env`` may carry ordinary settings, and :func:`load_settings` refuses to start when it carries a
secret (:data:`SECRET_VARIABLES`, or a database URL with a password in it), naming the variable in
one line. The same secret in the environment is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.errors import SettingsError

ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "CPC_"

# ``json_schema_extra`` of a field whose value is a secret: it may come from the environment only.
SECRET: dict[str, Any] = {"secret": True}

# Secrets with no field (yet) that a ``.env`` must not carry either: the audit log's key, and the file
# holding it, are being added to the settings separately; naming them here refuses them from the start.
# The audit keys are read from the environment by store.audit_keys, never through Settings.
_SECRETS_WITHOUT_FIELD = (
    "CPC_AUDIT_KEY",
    "CPC_AUDIT_KEY_FILE",
    "CPC_AUDIT_KEY_PREVIOUS",
    "CPC_AUDIT_KEY_PREVIOUS_FILE",
)


class SecretInEnvFile(SettingsError):
    """A secret was set in ``.env``; it belongs in the environment (the CLI prints it, exit 2)."""


#: Store threads unless ``CPC_DB_THREADS`` says otherwise. A store call is Python (SQLAlchemy,
#: casework, the card) as much as a wait on the database, and each thread beyond a few takes the GIL
#: from the event loop that runs every turn. Measured on the 2-core machine (issue 12, December 2026):
#: 15 threads gave a PostgreSQL dissent p99 of 1.14-1.24 s at 50 conversations, 4 gave 0.91-0.98 s,
#: and status throughput rose from 181-186 to 210 req/s.
DEFAULT_DB_THREADS = 4


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'var' / 'cpc.sqlite3'}",
        description="SQLAlchemy URL; SQLite by default, postgresql+psycopg://... for several instances",
    )
    # Time limits on the database (store/engine.py), in seconds; on PostgreSQL 0 means no limit.
    db_connect_timeout: float = Field(default=5.0, ge=0, description="PostgreSQL: how long connecting may take")
    db_statement_timeout: float = Field(
        default=15.0, ge=0, description="PostgreSQL: how long any one statement may run before it is cancelled"
    )
    db_lock_timeout: float = Field(
        default=5.0, ge=0, description="PostgreSQL: how long a statement may wait for a lock (a row, a table)"
    )
    db_busy_timeout: float = Field(default=30.0, ge=0, description="SQLite: how long a writer waits for another's lock")
    db_pool_size: int = Field(default=5, ge=1, description="database connections kept open in the pool")
    db_max_overflow: int = Field(default=10, ge=0, description="connections allowed beyond the pool when it is busy")
    db_threads: int | None = Field(
        default=None,
        ge=1,
        description=(
            "threads that run store calls off the event loop; default 4, or db_pool_size + db_max_overflow if fewer"
        ),
    )
    db_ready_timeout: float = Field(default=2.0, gt=0, description="how long /readyz waits for the database")
    admin_contact: str = Field(
        default="",
        max_length=200,
        description="Who adds people to the register, as an unregistered user is told: a team and an "
        "address, e.g. 'the safeguarding business support team (cpbs@example.org)'",
    )
    procedures_dir: str = Field(
        default="",
        description="Extra directory (or several, separated by ':') of procedure packs; a pack there "
        "with the same id as a built-in one replaces it",
    )
    meetings: str = Field(
        default="",
        description='JSON: {"area": {"meeting list": ["YYYY-MM-DD", ...]}} added to the packs\' [meetings]',
    )
    reference_pattern: str = Field(
        default="",
        description="regular expression every case reference must match, in every area (this authority's "
        "own form, e.g. ^LBH/\\d{4}/\\d{3}$); overrides the packs' [area] reference_pattern; "
        "empty: the packs', else ^CPC-\\d{1,10}$",
    )

    # Teams / Bot Framework. An empty app id means no authentication, allowed on loopback only.
    app_id: str = Field(default="", description="Microsoft App ID of the bot (Entra app registration)")
    app_password: str = Field(
        default="", description="client secret of the bot's app registration", json_schema_extra=SECRET
    )
    app_tenant_id: str = Field(default="", description="tenant id for a SingleTenant bot")
    app_type: str = Field(default="SingleTenant", description="SingleTenant, MultiTenant or UserAssignedMSI")
    host: str = Field(default="127.0.0.1", description="address `cpc serve` binds to")
    port: int = Field(default=3978, ge=0, le=65535, description="port `cpc serve` listens on (0 picks a free one)")
    # Test and sovereign-cloud overrides of where the channel's signing keys are published.
    openid_metadata_url: str = Field(default="", description="override of the Bot Framework OpenID metadata URL")
    token_issuer: str = Field(default="", description="override of the expected token issuer")
    outbox_dir: str = Field(default=str(ROOT / "var" / "outbox"), description="where .ics/.eml go without a tenant")
    allowed_tenants: str = Field(
        default="",
        description="comma-separated Entra tenant ids whose activities are accepted; empty: the app's own "
        "tenant (CPC_APP_TENANT_ID) only",
    )
    teams_service_hosts: str = Field(
        default="smba.trafficmanager.net,smba.infra.gcc.teams.microsoft.com,"
        "smba.infra.gov.teams.microsoft.us,smba.infra.dod.teams.microsoft.us",
        description="comma-separated hosts an authenticated activity's serviceUrl may name (Microsoft's "
        "Teams service hosts for the commercial, GCC, GCC High and DoD clouds)",
    )
    playground_origins: str = Field(
        default="",
        description="comma-separated browser Origins accepted in unauthenticated loopback mode; empty: "
        "requests carrying any Origin header are refused there",
    )

    # Reminders and digests (scheduler/). Rate limits are per instance: Teams allows 7 sends per second
    # per conversation and about 50 requests per second per tenant (SDK-FACTS: Teams rate limits).
    sweep_interval_seconds: float = Field(default=60.0, gt=0, description="how often the reminder sweep runs")
    digest_time: str = Field(default="08:00", description="Europe/London time of the working-day digest (HH:MM)")
    reminder_rate_per_conversation: float = Field(default=7.0, gt=0, description="sends per second per conversation")
    reminder_rate_global: float = Field(default=30.0, gt=0, description="sends per second in all (this instance)")
    reminder_failure_threshold: int = Field(
        default=5, ge=1, description="failed Teams attempts after which a reminder goes by email and the admin is told"
    )
    reminder_retries: int = Field(default=3, ge=1, description="Teams attempts per claim before the row is put back")
    reminder_lease_seconds: float = Field(default=120.0, gt=0, description="how long a claimed reminder is held")
    reminder_batch: int = Field(default=100, ge=1, description="reminders claimed at a time by one sweep")
    admin_email: str = Field(default="", description="who is told when reminders fall back to email after failures")

    # Microsoft Graph (graph/): app-only credentials, mailboxes, base URL. With no credentials the file
    # outbox is used (.ics/.eml under outbox_dir) and slot finding sees only the bot's own bookings.
    graph_tenant_id: str = Field(default="", description="Entra tenant id of the Graph app registration")
    graph_client_id: str = Field(default="", description="client (application) id of the Graph app registration")
    graph_client_secret: str = Field(
        default="", description="client secret (from the environment only)", json_schema_extra=SECRET
    )
    graph_certificate_path: str = Field(default="", description="PEM/PFX certificate for CertificateCredential")
    graph_use_managed_identity: bool = Field(default=False, description="use DefaultAzureCredential (managed identity)")
    graph_base_url: str = Field(
        default="https://graph.microsoft.com/v1.0", description="Graph base URL, no trailing slash; tests use loopback"
    )
    organiser_mailbox: str = Field(default="", description="the mailbox whose calendar holds panel bookings")
    sender_mailbox: str = Field(default="", description="the shared mailbox digests and notices are sent from")
    working_hours: str = Field(
        default="09:00-17:00", description="Europe/London hours slots are offered in (HH:MM-HH:MM)"
    )

    audit_checkpoint_minutes: float = Field(
        default=60.0, gt=0, description="how often the audit head is written outside the database"
    )
    response_poll_seconds: float = Field(default=900, description="how often invitation responses are polled")

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments of ``store.engine.make_engine`` from these settings."""
        return {
            "connect_timeout": self.db_connect_timeout,
            "statement_timeout": self.db_statement_timeout,
            "lock_timeout": self.db_lock_timeout,
            "busy_timeout": self.db_busy_timeout,
            "pool_size": self.db_pool_size,
            "max_overflow": self.db_max_overflow,
        }

    def tenants(self) -> frozenset[str]:
        """The tenants whose activities are accepted (empty: any, which only loopback mode allows)."""
        listed = {t.strip().lower() for t in self.allowed_tenants.split(",") if t.strip()}
        if not listed and self.app_tenant_id:
            listed = {self.app_tenant_id.strip().lower()}
        return frozenset(listed)

    def home_tenant(self) -> str | None:
        """The tenant whose roster may link an account to a registered person (issue 11): the app's
        own (``CPC_APP_TENANT_ID``), else the one tenant ``CPC_ALLOWED_TENANTS`` names; any tenant in
        loopback development (no app id); none otherwise (several allowed and no home named)."""
        from casework.commands.identity import ANY_TENANT  # the casework service; not for every command

        if self.app_tenant_id.strip():
            return self.app_tenant_id.strip().lower()
        if not self.app_id:
            return ANY_TENANT
        allowed = sorted(self.tenants())
        return allowed[0] if len(allowed) == 1 else None

    def executor_threads(self) -> int:
        """The size of the event loop's default executor: :data:`DEFAULT_DB_THREADS`, never more than
        the connections the pool may open (so a call waits for a thread, not for a connection)."""
        if self.db_threads is not None:
            return self.db_threads
        return min(DEFAULT_DB_THREADS, self.db_pool_size + self.db_max_overflow)

    def extra_pack_dirs(self) -> list[Path]:
        return [Path(p) for p in self.procedures_dir.split(":") if p.strip()]


def _is_secret(extra: object) -> bool:
    return isinstance(extra, dict) and extra.get("secret") is True


# Every environment variable whose value is a secret: the fields marked SECRET, then those to come.
SECRET_VARIABLES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            f"{ENV_PREFIX}{name}".upper()
            for name, field in Settings.model_fields.items()
            if _is_secret(field.json_schema_extra)
        ]
        + list(_SECRETS_WITHOUT_FIELD)
    )
)
DATABASE_URL_VARIABLE = f"{ENV_PREFIX}database_url".upper()


def env_files() -> list[Path]:
    """The ``.env`` files :class:`Settings` reads, resolved as pydantic-settings resolves them.

    ``env_file`` is a path (or several) relative to the working directory, used when it is a file;
    with no ``env_file_depth`` set no parent directory is searched.
    """
    configured = Settings.model_config.get("env_file")
    if configured is None:
        return []
    names: Iterable[str | Path] = [configured] if isinstance(configured, str | Path) else configured
    return [path for path in (Path(name).expanduser() for name in names) if path.is_file()]


def _has_password(url: str) -> bool:
    """Read with the standard library, so that loading settings does not import SQLAlchemy."""
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False  # not a URL at all: the engine names that when it is used, not as a secret


def secrets_in(path: Path) -> list[str]:
    """The secret variables set (to something non-empty) in one ``.env`` file, as they are spelt there.

    Names are matched without regard to case, as the settings read them (``case_sensitive`` is off).
    A database URL counts when it has a password in it; one without (SQLite, peer or ``.pgpass``
    authentication) is an ordinary setting.
    """
    encoding = Settings.model_config.get("env_file_encoding") or "utf-8"
    found = []
    for name, value in dotenv_values(path, encoding=encoding).items():
        if not value:
            continue
        if name.upper() in SECRET_VARIABLES or (name.upper() == DATABASE_URL_VARIABLE and _has_password(value)):
            found.append(name)
    return found


def _secret_message(path: Path, found: list[str]) -> str:
    """One line naming each secret found, never its value."""
    labels = [f"the password in {n}" if n.upper() == DATABASE_URL_VARIABLE else n for n in found]
    if len(labels) == 1:
        return (
            f"{labels[0]} is a secret and may not be set in {path}; "
            "set it in the environment (or a Key Vault reference) instead"
        )
    names = f"{', '.join(labels[:-1])} and {labels[-1]}"
    return (
        f"{names} are secrets and may not be set in {path}; "
        "set them in the environment (or Key Vault references) instead"
    )


def refuse_secrets_in_env_files() -> None:
    """Raise :class:`SecretInEnvFile` if a ``.env`` the settings read sets a secret (the same in the
    environment is fine: pydantic-settings would read both, so the file is checked on its own)."""
    for path in env_files():
        found = secrets_in(path)
        if found:
            raise SecretInEnvFile(_secret_message(path.resolve(), found))


def load_settings() -> Settings:
    """The settings of this process, after refusing a ``.env`` that carries a secret.

    Every command (``cpc serve`` among them) loads its settings here, so a secret left in ``.env``
    stops it before it opens a database or binds a port.
    """
    refuse_secrets_in_env_files()
    try:
        return Settings()
    except ValidationError as exc:
        raise InvalidSetting(_invalid_message(exc)) from None


class InvalidSetting(SettingsError):
    """A CPC_ variable whose value the settings refuse (``CPC_PORT=70000``); one line naming it."""


def _invalid_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    name = "CPC_" + "_".join(str(part) for part in first["loc"]).upper()
    return f"{name}={first.get('input')!r}: {first['msg']} ({exc.error_count()} problem(s) in the settings)"
