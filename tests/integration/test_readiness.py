"""Database time limits, ``/healthz`` (liveness) and ``/readyz`` (readiness), and the store's threads.

The server is the real one (``app.serve.build``) on loopback, on its own event loop in a thread, and
the client is plain ``urllib`` with a timeout of a few seconds. No assertion is about speed: a limit
is shown by the error it produces, and "still answers" by an answer arriving while the database is
provably stuck (PostgreSQL reports the blocked backend in ``pg_stat_activity``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, Self

import psycopg
import pytest
from aiohttp import web
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError

from app.serve import build
from app.settings import Settings
from bot.app import SCHEDULER_KEY
from scheduler.runner import Scheduler
from store.engine import TIMEOUTS, Readiness, make_engine, sqlite_file
from store.migrate import MIGRATION_LOCK_KEY, alembic_config, current, head, upgrade
from store.sql import SqlStore

CLIENT_TIMEOUT = 5.0  # seconds: an answer that does not come in this long counts as none


# -- helpers -------------------------------------------------------------------------------------


def get(url: str, timeout: float = CLIENT_TIMEOUT) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll until ``condition`` holds; a bound on waiting for a state, not a claim about speed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


class Served:
    """``build(settings)`` served on 127.0.0.1 by an aiohttp runner on an event loop of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="served", daemon=True)
        self.runner: web.AppRunner | None = None
        self.app: web.Application | None = None
        self.store: SqlStore | None = None
        self.port = 0

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __enter__(self) -> Self:
        self.thread.start()

        async def boot() -> None:
            self.app, self.store = build(self.settings)
            self.runner = web.AppRunner(self.app)
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            self.port = int(self.runner.addresses[0][1])

        try:
            self.run(boot())
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.runner is not None:
            self.run(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()
        if self.store is not None:
            self.store.engine.dispose()

    def get(self, path: str, timeout: float = CLIENT_TIMEOUT) -> tuple[int, Any]:
        return get(f"http://127.0.0.1:{self.port}{path}", timeout)


def settings_for(url: str, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(database_url=url, outbox_dir=str(tmp_path / "outbox"), host="127.0.0.1", app_id="", **extra)


class Proxy:
    """A TCP relay on loopback in front of PostgreSQL: stopped, its port is unused (connections are
    refused), as when the database server is down; started again, on the same port, it is back."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets, self._open = self._open, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


def blocked_by(admin: Engine, pid: int) -> bool:
    """Whether some PostgreSQL backend is waiting for a lock that backend ``pid`` holds."""
    with admin.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"), {"pid": pid}
        ).scalar_one()
    return bool(count)


def previous_revision() -> str:
    down = ScriptDirectory.from_config(alembic_config()).get_revision(head()).down_revision
    assert isinstance(down, str), down
    return down


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the limits on every connection ------------------------------------------------------------


def test_settings_name_the_limits_and_the_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    assert defaults.engine_options() == {
        "connect_timeout": 5.0,
        "statement_timeout": 15.0,
        "lock_timeout": 5.0,
        "busy_timeout": 30.0,
        "pool_size": 5,
        "max_overflow": 10,
    }
    assert defaults.executor_threads() == 4  # fewer than the 15 connections: threads contend for the GIL
    assert defaults.db_ready_timeout == 2.0
    monkeypatch.setenv("CPC_DB_LOCK_TIMEOUT", "1.5")
    monkeypatch.setenv("CPC_DB_POOL_SIZE", "1")
    monkeypatch.setenv("CPC_DB_MAX_OVERFLOW", "2")
    assert Settings().engine_options()["lock_timeout"] == 1.5
    assert Settings().executor_threads() == 3  # never more threads than connections
    monkeypatch.setenv("CPC_DB_THREADS", "6")
    assert Settings().executor_threads() == 6


@pytest.mark.postgres
def test_every_postgres_connection_carries_the_limits_and_keeps_the_urls_options(postgres_schema_url: str) -> None:
    engine = make_engine(postgres_schema_url)
    sent: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def _seen(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        sent.update(cparams)

    schema = make_url(postgres_schema_url).query["options"]
    assert isinstance(schema, str)
    try:
        with engine.connect() as conn:
            settings = {
                name: conn.exec_driver_sql(f"SHOW {name}").scalar_one()
                for name in ("statement_timeout", "lock_timeout", "search_path")
            }
        assert settings["statement_timeout"] == "15s"
        assert settings["lock_timeout"] == "5s"
        assert settings["search_path"] == schema.removeprefix("-csearch_path=")  # the URL's options still apply
        assert sent["connect_timeout"] == 5
        assert engine.pool.size() == 5  # type: ignore[attr-defined]
    finally:
        engine.dispose()

    tight = make_engine(postgres_schema_url, statement_timeout=0.25, lock_timeout=0, connect_timeout=1.5, pool_size=2)
    try:
        with tight.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "250ms"
            assert conn.exec_driver_sql("SHOW lock_timeout").scalar_one() == "0"
        assert tight.pool.size() == 2  # type: ignore[attr-defined]
        with pytest.raises(OperationalError) as raised, tight.connect() as conn:
            conn.exec_driver_sql("SELECT pg_sleep(5)")
        assert isinstance(raised.value.orig, psycopg.errors.QueryCanceled)
        assert "statement timeout" in str(raised.value.orig)
        # One transaction may ask for other limits (a migration, the readiness probe).
        with tight.connect().execution_options(**{TIMEOUTS: {"statement_timeout": 0}}) as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "0"
            conn.rollback()
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "0"  # a new transaction: again
        with tight.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "250ms"  # SET LOCAL did not stay
    finally:
        tight.dispose()


@pytest.mark.postgres
def test_a_statement_waiting_on_a_row_lock_fails_after_lock_timeout_instead_of_hanging(
    postgres_schema_url: str,
) -> None:
    engine = make_engine(postgres_schema_url, lock_timeout=0.5)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE held (id integer PRIMARY KEY, n integer NOT NULL)")
            conn.exec_driver_sql("INSERT INTO held VALUES (1, 0)")
        outcome: dict[str, BaseException] = {}

        def writer() -> None:
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql("UPDATE held SET n = n + 1 WHERE id = 1")
            except BaseException as exc:
                outcome["error"] = exc

        with engine.connect() as holder:
            holder.exec_driver_sql("SELECT n FROM held WHERE id = 1 FOR UPDATE")  # the row lock, held
            thread = threading.Thread(target=writer)
            thread.start()
            thread.join(60)  # far beyond lock_timeout: only a hang gets here with the thread alive
            assert not thread.is_alive(), "the UPDATE was still waiting for the row lock"
            holder.rollback()
        error = outcome.get("error")
        assert isinstance(error, OperationalError), error
        assert isinstance(error.orig, psycopg.errors.LockNotAvailable)
        assert "canceling statement due to lock timeout" in str(error.orig)
        with engine.connect() as conn:  # the row was not changed, and the lock is free again
            assert conn.exec_driver_sql("SELECT n FROM held").scalar_one() == 0
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_an_instance_waits_its_turn_to_migrate_beyond_lock_timeout(postgres_schema_url: str, tmp_path: Path) -> None:
    """Migrations run without the request limits: a second instance starting while another holds the
    migration lock waits for it, even with a lock_timeout far shorter than the wait."""
    settings = settings_for(postgres_schema_url, tmp_path, db_lock_timeout=0.2, db_statement_timeout=0.5)
    admin = create_engine(postgres_schema_url)
    outcome: dict[str, Any] = {}

    def start() -> None:
        async def boot() -> SqlStore:
            return build(settings)[1]

        try:
            outcome["store"] = asyncio.run(boot())
        except BaseException as exc:
            outcome["error"] = exc

    try:
        with admin.connect() as holder:
            holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
            starting = threading.Thread(target=start)
            starting.start()
            wait_for(lambda: blocked_by(admin, holder_pid), "the instance to wait for the migration lock")
            time.sleep(10 * settings.db_lock_timeout)  # hold it well past lock_timeout
            assert blocked_by(admin, holder_pid), "the instance stopped waiting for the migration lock"
            holder.rollback()  # the other instance has finished migrating
        starting.join(120)
        assert "error" not in outcome, repr(outcome.get("error"))
        store: SqlStore = outcome["store"]
        try:
            assert current(store.engine) == head()
        finally:
            store.engine.dispose()
    finally:
        admin.dispose()


def test_a_sqlite_writer_gives_up_after_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    default = make_engine(url)
    try:
        with default.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30000
    finally:
        default.dispose()
    engine = make_engine(url, busy_timeout=0.2)
    outside = sqlite3.connect(tmp_path / "busy.sqlite3", isolation_level=None)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n integer)")
        outside.execute("BEGIN EXCLUSIVE")
        with pytest.raises(OperationalError, match="database is locked"), engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        outside.execute("ROLLBACK")
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    finally:
        outside.close()
        engine.dispose()


def test_the_readiness_probe_names_an_unreachable_server() -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{unused_port()}/test", connect_timeout=2)
    try:
        assert Readiness(engine).check() == "database unreachable"
    finally:
        engine.dispose()


# -- /healthz and /readyz through the real server ----------------------------------------------


def test_ready_on_each_backend(store_url: str, tmp_path: Path) -> None:
    with Served(settings_for(store_url, tmp_path)) as server:
        assert server.get("/readyz") == (200, {"status": "ready"})
        status, body = server.get("/healthz")
        assert (status, body["status"]) == (200, "ok")


def test_not_ready_while_migrations_are_behind_then_ready_again(store_url: str, tmp_path: Path) -> None:
    def set_revision(revision: str) -> None:
        file = sqlite_file(store_url)
        if file is not None:
            with sqlite3.connect(file) as conn:
                conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
            return
        outside = create_engine(store_url)
        try:
            with outside.begin() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        finally:
            outside.dispose()

    older = previous_revision()
    with Served(settings_for(store_url, tmp_path)) as server:
        assert server.get("/readyz")[0] == 200
        set_revision(older)
        status, body = server.get("/readyz")
        assert status == 503
        assert body == {
            "status": "not ready",
            "reason": f"migrations behind: the database is at {older}, the code needs {head()}; run 'cpc db upgrade'",
        }
        assert server.get("/healthz")[0] == 200
        set_revision("9999_from_the_future")
        status, body = server.get("/readyz")
        assert status == 503 and body["reason"].startswith("migrations ahead: the database is at 9999_from_the_future")
        set_revision(head())
        assert server.get("/readyz") == (200, {"status": "ready"})


def test_not_ready_while_the_scheduler_is_stopped(tmp_path: Path) -> None:
    with Served(settings_for(f"sqlite:///{tmp_path / 'cpc.sqlite3'}", tmp_path)) as server:
        assert server.app is not None
        scheduler = server.app[SCHEDULER_KEY]
        assert isinstance(scheduler, Scheduler)

        async def stop() -> None:
            scheduler.stop()

        async def start() -> None:
            scheduler.start()

        server.run(stop())
        assert server.get("/readyz") == (503, {"status": "not ready", "reason": "scheduler not running"})
        server.run(start())
        assert server.get("/readyz") == (200, {"status": "ready"})


@pytest.mark.postgres
def test_not_ready_while_the_database_server_is_unreachable_and_ready_again_without_a_restart(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    real = make_url(postgres_schema_url)
    upgrade(postgres_schema_url)
    proxy = Proxy(real.host or "127.0.0.1", real.port or 5432)
    proxy.start()
    via_proxy = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        with Served(settings_for(via_proxy, tmp_path)) as server:
            assert server.get("/readyz") == (200, {"status": "ready"})

            proxy.stop()  # the URL now points at 127.0.0.1 on a port nobody listens on
            status, body = server.get("/readyz")
            assert (status, body) == (503, {"status": "not ready", "reason": "database unreachable"})
            assert "Traceback" not in json.dumps(body)
            assert server.get("/healthz")[0] == 200

            proxy.start()  # the server is back, on the same address
            wait_for(lambda: server.get("/readyz") == (200, {"status": "ready"}), "/readyz to be ready again")
    finally:
        proxy.stop()


@pytest.mark.postgres
def test_healthz_answers_while_a_request_waits_on_a_database_lock(postgres_schema_url: str, tmp_path: Path) -> None:
    # A long readiness limit, so the waiting /readyz cannot give up before the lock is released.
    settings = settings_for(postgres_schema_url, tmp_path, db_ready_timeout=120)
    admin = create_engine(postgres_schema_url)
    try:
        with Served(settings) as server:
            assert server.get("/readyz")[0] == 200
            with admin.connect() as holder:
                holder.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
                holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
                answers: dict[str, tuple[int, Any]] = {}
                waiting = threading.Thread(target=lambda: answers.update(readyz=server.get("/readyz", timeout=180)))
                waiting.start()

                wait_for(lambda: blocked_by(admin, holder_pid), "/readyz's query to wait on the table lock")
                # The lock is still held, so /readyz is still in progress: the loop answers anyway.
                status, body = server.get("/healthz", timeout=CLIENT_TIMEOUT)
                assert (status, body["status"]) == (200, "ok")
                assert "readyz" not in answers
                holder.rollback()  # the lock goes
            waiting.join(60)
            assert answers["readyz"] == (200, {"status": "ready"})
    finally:
        admin.dispose()


def test_store_calls_run_on_the_app_executor_sized_by_the_settings(tmp_path: Path) -> None:
    with Served(settings_for(f"sqlite:///{tmp_path / 'cpc.sqlite3'}", tmp_path, db_threads=2)) as server:

        async def thread_names() -> set[str]:
            def name() -> str:
                time.sleep(0.2)
                return threading.current_thread().name

            return set(await asyncio.gather(*(asyncio.to_thread(name) for _ in range(6))))

        names: set[str] = server.run(thread_names())
        assert names and all(n.startswith("cpc-store") for n in names)
        assert len(names) <= 2


@pytest.fixture
def migrated_sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'probe.sqlite3'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def test_the_readiness_probe_reads_the_revision(migrated_sqlite: Engine) -> None:
    assert Readiness(migrated_sqlite).check() is None
    with migrated_sqlite.begin() as conn:
        conn.exec_driver_sql("DELETE FROM alembic_version")
    reason = Readiness(migrated_sqlite).check()
    assert reason is not None and reason.startswith("migrations behind: the database has no schema")
