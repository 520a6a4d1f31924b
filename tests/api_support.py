"""A real HTTP API server for a test: uvicorn serving the app on a free port over the test's database,
with one user per role and a DAG with finished runs, and helpers to call it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_runner import backfill
from dag_folders import Dags, make_dags

PASSWORD = "correct horse battery"
ROLES = ("viewer", "operator", "auditor", "admin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Api:
    url: str
    database_url: str
    dags: Dags
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, username: str, password: str = PASSWORD) -> str:
        if username not in self.tokens:
            answer = httpx.post(f"{self.url}/auth/token", json={"username": username, "password": password})
            assert answer.status_code == 201, answer.text
            self.tokens[username] = answer.json()["access_token"]
        return self.tokens[username]

    def call(self, method: str, path: str, as_user: str | None = "admin", **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if as_user is not None:
            headers["Authorization"] = f"Bearer {self.token(as_user)}"
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)

    def client(self, as_user: str = "admin") -> Any:
        """The official apache-airflow-client, authenticated as the user."""
        import airflow_client.client as ac

        return ac.ApiClient(ac.Configuration(host=self.url, access_token=self.token(as_user)))


def add_users(*roles: str) -> None:
    """One user per role, named after it (created as the admin of the command line would)."""
    from ledgerflow.engine.application.commands import CreateUser
    from ledgerflow.engine.application.service import Ledgerflow

    with Ledgerflow() as svc:
        for role in roles:
            svc.create_user(CreateUser(username=role, role=role, password=PASSWORD, reason="test users"))


@contextmanager
def serving(port: int) -> Iterator[None]:
    """uvicorn serving the app in a thread of this process, over LEDGERFLOW_DATABASE_URL."""
    import uvicorn

    from ledgerflow.api.app import create_app
    from ledgerflow.engine.application.service import Ledgerflow

    with Ledgerflow(keep_dag_files=True) as svc:
        server = uvicorn.Server(uvicorn.Config(create_app(svc), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the API server did not start"
            time.sleep(0.02)
        try:
            yield
        finally:
            server.should_exit = True
            thread.join(20)


@pytest.fixture
def api(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The API over a database holding three successful pychain runs (2024-01-01..03) and a user per role."""
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "sequential")
    dags = make_dags(tmp_path, "pychain")
    monkeypatch.setenv("LEDGERFLOW_DAGS_FOLDER", str(dags.folder))
    done = backfill(dags, "pychain", "-s", "2024-01-01", "-e", "2024-01-03", "-y")
    assert done.exit_code == 0, done.output
    add_users(*ROLES)
    port = free_port()
    with serving(port):
        yield Api(f"http://127.0.0.1:{port}", database_url, dags)
