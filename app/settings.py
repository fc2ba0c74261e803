"""Configuration from the environment (and a local ``.env``); secrets come only from here."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CPC_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'var' / 'cpc.sqlite3'}",
        description="SQLAlchemy URL; SQLite by default, postgresql+psycopg://... for several instances",
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

    def extra_pack_dirs(self) -> list[Path]:
        return [Path(p) for p in self.procedures_dir.split(":") if p.strip()]


def load_settings() -> Settings:
    return Settings()
