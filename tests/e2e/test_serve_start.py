"""`cpc serve` start-up with arguments it cannot use: one line, exit code 2, and nothing started.

Issue 11 found port 99999, port -1, a port in use and host ``127.0.0.1%lo`` each ending in a
traceback, ``--port 0`` silently binding 3978, and a failed start running a reminder sweep first (the
app's start-up hooks ran before the bind). Each case runs the real command in its own process.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.processes import environment


def serve(
    tmp: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    url = f"sqlite:///{tmp / 'never.sqlite3'}"
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", *args],
        cwd=tmp,
        env={**environment(url, tmp), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture()
def port_in_use() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def one_line_refusal(result: subprocess.CompletedProcess[str], tmp: Path) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    # Nothing was started: the database was never opened, so no sweep can have run.
    assert not (tmp / "never.sqlite3").exists()
    assert "sweep" not in result.stdout + result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "99999"], r"port 99999: expected a number from 0 to 65535"),
        (["--port", "-1"], r"port -1: expected a number from 0 to 65535"),
        (["--port", "http"], r"'http': expected a port number"),
        (["--host", "127.0.0.1%lo"], r"host '127\.0\.0\.1%lo': not an address this machine can listen on"),
    ],
)
def test_bad_argument_is_one_line_and_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    assert re.search(says, one_line_refusal(serve(tmp_path, *args), tmp_path))


def test_port_in_use_is_one_line_and_runs_no_sweep(tmp_path: Path, port_in_use: int) -> None:
    line = one_line_refusal(serve(tmp_path, "--port", str(port_in_use)), tmp_path)
    assert f"127.0.0.1:{port_in_use}: cannot listen there: Address already in use" in line


def test_bad_port_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    line = one_line_refusal(serve(tmp_path, env={"CPC_PORT": "70000"}), tmp_path)
    assert line.startswith("cpc: error: CPC_PORT='70000'")


def test_port_0_binds_a_free_port_and_says_which(tmp_path: Path) -> None:
    """0 is the usual "pick one" (not 3978): the banner names the port the system chose."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", "0"],
        cwd=tmp_path,
        env=environment(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/api/messages", banner)
        assert found, banner
        port = int(found.group(1))
        assert port not in (0, 3978)
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            pass
    finally:
        process.terminate()
        process.wait(timeout=30)
