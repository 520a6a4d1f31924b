"""Real Celery workers for the Celery executor's tests: `ledgerflow celery worker` processes on a real
RabbitMQ, each test on queues of its own (other workers on the same broker never take its tries)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cli_runner import wait_for

BROKER = os.environ.get("LEDGERFLOW_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")

DAG = '''
import os, time
from datetime import datetime, timedelta
from pathlib import Path
from ledgerflow import DAG, PythonTask

STATE = Path({state!r})

def work(ds, ti, **_):
    host = os.environ.get("LEDGERFLOW_HOSTNAME")
    with open(STATE / "started.log", "a") as f:
        f.write(f"{{ti.task_id}} {{ds}} {{host}} {{os.getpid()}} {{ti.try_number}}\\n")
    while (STATE / "hold").exists() or (STATE / f"hold__{{ti.task_id}}").exists():
        time.sleep(0.05)
    time.sleep({pause})
    print(f"ran {{ti.task_id}} {{ds}} on {{host}}")
    with open(STATE / "done.log", "a") as f:
        f.write(f"{{ti.task_id}} {{ds}} {{host}}\\n")

with DAG({dag_id!r}, schedule="@daily", start_date=datetime(2024, 1, 1)):
    for i in range({tasks}):
        PythonTask(f"t{{i}}", python_callable=work, queue={queue!r}, retries={retries},
                   execution_timeout={timeout})
'''


@dataclass
class Cluster:
    """A DAG folder, its state folder, the test's queue and the workers started on it."""

    root: Path
    database_url: str
    queue: str
    workers: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def folder(self) -> Path:
        return self.root / "dags"

    def write(self, dag_id: str = "spread", *, tasks: int = 3, retries: int = 0, pause: float = 0.0,
              timeout: float | None = None, folder: Path | None = None, extra: str = "") -> Path:
        where = folder or self.folder
        where.mkdir(parents=True, exist_ok=True)
        path = where / f"{dag_id}.py"
        path.write_text(DAG.format(state=str(self.state), dag_id=dag_id, tasks=tasks, retries=retries, pause=pause,
                                   timeout=timeout, queue=self.queue) + extra)
        return path

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "LEDGERFLOW_DATABASE_URL": self.database_url, "LEDGERFLOW_BROKER_URL": BROKER,
                "LEDGERFLOW_DAGS_FOLDER": str(self.folder), "LEDGERFLOW_EXECUTOR": "celery",
                "PYTHONUNBUFFERED": "1", **extra}

    def worker(self, hostname: str, *args: str, queues: str | None = None, wait: bool = True,
               **env: str) -> subprocess.Popen[str]:
        """Starts `ledgerflow celery worker` (its own LEDGERFLOW_HOME: another machine) and waits until it
        consumes the test's queue."""
        home = self.root / f"home-{hostname}"
        before = self.consumers()
        proc = subprocess.Popen(
            [sys.executable, "-m", "ledgerflow.cli", "celery", "worker", "-q", queues or self.queue, "-H", hostname,
             *args], cwd=self.root, env=self.env(LEDGERFLOW_HOME=str(home), **env), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.workers.append(proc)
        if wait:
            wait_for(lambda: proc.poll() is not None or self.consumers() > before, 60, f"worker {hostname}")
            assert proc.poll() is None, proc.communicate()[0]
        return proc

    def consumers(self) -> int:
        from kombu import Connection

        with Connection(BROKER) as conn, conn.channel() as channel:
            return channel.queue_declare(self.queue, durable=True, auto_delete=False).consumer_count

    def backfill(self, dag_id: str, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "ledgerflow.cli", "dags", "backfill", dag_id, "-y", *args], cwd=self.root,
            env=self.env(LEDGERFLOW_HOME=str(self.root / "home"), **env), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)

    def lines(self, name: str) -> list[list[str]]:
        path = self.state / name
        return [line.split() for line in path.read_text().splitlines()] if path.exists() else []

    def stop(self, proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)

    def close(self) -> None:
        for proc in self.workers:
            self.stop(proc)
        deadline = time.monotonic() + 15
        for proc in self.workers:
            try:
                proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stop(proc, signal.SIGKILL)
                proc.communicate()
        from kombu import Connection

        with contextlib.suppress(Exception), Connection(BROKER) as conn, conn.channel() as channel:
            channel.queue_delete(self.queue)


@pytest.fixture
def cluster(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    from kombu import Connection

    try:
        with Connection(BROKER, connect_timeout=3) as conn:
            conn.connect()
    except OSError as exc:
        pytest.fail(f"RabbitMQ is not reachable at {BROKER} ({exc}): .ci/run starts it")
    found = Cluster(tmp_path, database_url, f"lf-test-{uuid.uuid4().hex[:10]}")
    found.state.mkdir()
    monkeypatch.setenv("LEDGERFLOW_DAGS_FOLDER", str(found.folder))
    yield found
    found.close()
