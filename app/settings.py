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

    def extra_pack_dirs(self) -> list[Path]:
        return [Path(p) for p in self.procedures_dir.split(":") if p.strip()]


def load_settings() -> Settings:
    return Settings()
