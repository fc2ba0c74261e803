"""Secrets come from the environment only: a ``.env`` that sets one stops the start with one line.

Each test runs in its own directory (the settings read ``.env`` from the working directory) with
no ``CPC_`` variable inherited from the machine running the tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.settings import SECRET_VARIABLES, SecretInEnvFile, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
VALUE = "s3cr3t-value-never-printed"


@pytest.fixture(autouse=True)
def clean_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in list(os.environ):
        if name.upper().startswith("CPC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def write_env(text: str) -> Path:
    path = Path(".env")
    path.write_text(text, encoding="utf-8")
    return path.resolve()


def one_secret(name: str, path: Path) -> str:
    """The refusal of one secret, word for word."""
    return (
        f"{name} is a secret and may not be set in {path}; set it in the environment (or a Key Vault reference) instead"
    )


def refusal() -> str:
    with pytest.raises(SecretInEnvFile) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message and VALUE not in message
    return message


def test_the_secrets_are_the_marked_fields_and_the_audit_key() -> None:
    marked = {name for name, f in Settings.model_fields.items() if f.json_schema_extra == {"secret": True}}
    assert {"app_password", "graph_client_secret"} <= marked
    assert {f"CPC_{name.upper()}" for name in marked} <= set(SECRET_VARIABLES)
    # The audit key is refused before its field exists (and after, when the field is marked).
    assert {"CPC_APP_PASSWORD", "CPC_GRAPH_CLIENT_SECRET", "CPC_AUDIT_KEY", "CPC_AUDIT_KEY_FILE"} <= set(
        SECRET_VARIABLES
    )
    assert len(SECRET_VARIABLES) == len(set(SECRET_VARIABLES))


def test_a_field_named_like_a_secret_is_marked_as_one() -> None:
    """A new password, secret or key setting left unmarked would be accepted from .env: fail here instead."""
    named = {n for n in Settings.model_fields if any(w in n for w in ("password", "secret", "key", "token"))}
    unmarked = {n for n in named if f"CPC_{n.upper()}" not in SECRET_VARIABLES}
    # token_issuer is the expected issuer of Bot Framework tokens: a URL, not a credential.
    assert unmarked <= {"token_issuer"}


@pytest.mark.parametrize("name", SECRET_VARIABLES)
def test_each_secret_in_env_is_refused_in_one_line_naming_it(name: str) -> None:
    path = write_env(f"CPC_PORT=4001\n{name}={VALUE}\n")
    assert refusal() == one_secret(name, path)


@pytest.mark.parametrize(
    ("line", "spelt"),
    [
        (f"cpc_app_password={VALUE}", "cpc_app_password"),
        (f'export CPC_APP_PASSWORD="{VALUE}"', "CPC_APP_PASSWORD"),
        (f"CPC_Graph_Client_Secret = '{VALUE}'  # a comment", "CPC_Graph_Client_Secret"),
    ],
)
def test_any_spelling_the_settings_would_read_is_refused(line: str, spelt: str) -> None:
    write_env(line + "\n")
    # The settings themselves would take it from this file: that is what is being refused.
    read = Settings()
    assert VALUE in (read.app_password, read.graph_client_secret)
    assert refusal().startswith(f"{spelt} is a secret and may not be set in ")


def test_several_secrets_are_named_in_the_one_line() -> None:
    path = write_env(f"CPC_APP_PASSWORD={VALUE}\nCPC_GRAPH_CLIENT_SECRET={VALUE}\nCPC_AUDIT_KEY={VALUE}\n")
    assert refusal() == (
        f"CPC_APP_PASSWORD, CPC_GRAPH_CLIENT_SECRET and CPC_AUDIT_KEY are secrets and may not be set in {path}; "
        "set them in the environment (or Key Vault references) instead"
    )


def test_a_database_url_with_a_password_is_refused_one_without_is_not() -> None:
    path = write_env(f"CPC_DATABASE_URL=postgresql+psycopg://cpc:{VALUE}@db.example/cpc\n")
    assert refusal() == one_secret("the password in CPC_DATABASE_URL", path)
    write_env("CPC_DATABASE_URL=postgresql+psycopg://cpc@db.example/cpc\n")
    assert load_settings().database_url == "postgresql+psycopg://cpc@db.example/cpc"
    write_env("CPC_DATABASE_URL=sqlite:///var/x.sqlite3\n")
    assert load_settings().database_url == "sqlite:///var/x.sqlite3"


def test_non_secret_settings_and_empty_secrets_in_env_load() -> None:
    write_env("CPC_PORT=4001\nCPC_APP_ID=11111111-2222-3333-4444-555555555555\nCPC_APP_PASSWORD=\n")
    settings = load_settings()
    assert settings.port == 4001  # read from this .env: the file checked is the file the settings read
    assert settings.app_id == "11111111-2222-3333-4444-555555555555"
    assert settings.app_password == ""


def test_the_same_secrets_from_the_environment_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    write_env("CPC_PORT=4001\n")
    for name in SECRET_VARIABLES:
        monkeypatch.setenv(name, VALUE)
    monkeypatch.setenv("CPC_DATABASE_URL", f"postgresql+psycopg://cpc:{VALUE}@db.example/cpc")
    settings = load_settings()
    assert settings.app_password == VALUE and settings.graph_client_secret == VALUE
    assert settings.port == 4001


def test_no_env_file_loads() -> None:
    assert not Path(".env").exists()
    assert load_settings().port == 3978


def _entry_points() -> list[object]:
    """``python -m app.cli``, and the installed ``cpc`` script (what ``make run`` runs) when there is one."""
    points: list[object] = [pytest.param([sys.executable, "-m", "app.cli"], id="python-m-app.cli")]
    cpc = Path(sys.executable).parent / "cpc"
    if cpc.exists():
        points.append(pytest.param([str(cpc)], id="cpc"))
    return points


@pytest.mark.parametrize("command", _entry_points())
def test_cpc_serve_with_a_secret_in_env_exits_2_with_one_line_before_anything_opens(
    command: list[str], clean_dir: Path
) -> None:
    database = clean_dir / "cpc.sqlite3"
    path = write_env(f"CPC_DATABASE_URL=sqlite:///{database}\nCPC_APP_PASSWORD={VALUE}\n")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CPC_")}
    env["PYTHONPATH"] = str(REPO)  # this checkout's code, whatever the venv has installed
    # The port is taken: had serve got as far as binding, it would fail another way.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        res = subprocess.run(
            [*command, "serve", "--port", str(port)],
            cwd=clean_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr == f"cpc: error: {one_secret('CPC_APP_PASSWORD', path)}\n"
    assert not database.exists()  # refused before the database was opened
