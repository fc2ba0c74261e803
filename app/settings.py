"""Configuration from the environment (and a local ``.env``); secrets come only from here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CPC_", env_file=".env", extra="ignore")

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
        description="threads that run store calls off the event loop; default db_pool_size + db_max_overflow",
    )
    db_ready_timeout: float = Field(default=2.0, gt=0, description="how long /readyz waits for the database")
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
    app_password: str = Field(default="", description="client secret of the bot's app registration")
    app_tenant_id: str = Field(default="", description="tenant id for a SingleTenant bot")
    app_type: str = Field(default="SingleTenant", description="SingleTenant, MultiTenant or UserAssignedMSI")
    host: str = Field(default="127.0.0.1", description="address `cpc serve` binds to")
    port: int = Field(default=3978, description="port `cpc serve` listens on")
    # Test and sovereign-cloud overrides of where the channel's signing keys are published.
    openid_metadata_url: str = Field(default="", description="override of the Bot Framework OpenID metadata URL")
    token_issuer: str = Field(default="", description="override of the expected token issuer")
    outbox_dir: str = Field(default=str(ROOT / "var" / "outbox"), description="where .ics/.eml go without a tenant")

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
    graph_client_secret: str = Field(default="", description="client secret (from the environment only)")
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

    def executor_threads(self) -> int:
        """The size of the event loop's default executor: one thread per connection the pool may open."""
        return self.db_threads if self.db_threads is not None else self.db_pool_size + self.db_max_overflow

    def extra_pack_dirs(self) -> list[Path]:
        return [Path(p) for p in self.procedures_dir.split(":") if p.strip()]


def load_settings() -> Settings:
    return Settings()
