"""A try on a Celery worker: claimed, heartbeated, run and recorded in PostgreSQL by the worker itself.

Each worker process holds one session for its tries and a thread that heartbeats
every try it holds; a driver that sees no heartbeat for
LEDGERFLOW_TASK_HEARTBEAT_TIMEOUT seconds fails the try (its worker died). The job
names the driver's paths: the log goes under this machine's LEDGERFLOW_HOME, and
the DAG file is looked up in this machine's LEDGERFLOW_DAGS_FOLDER when it is set.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from ledgerflow.engine.infrastructure import settings, try_tables
from ledgerflow.engine.infrastructure.database import resolve_url
from ledgerflow.engine.infrastructure.task_logs import TryLog, row_of
from ledgerflow.engine.runtime import try_stop
from ledgerflow.engine.runtime.job_wire import from_wire, result_to_wire
from ledgerflow.engine.runtime.jobs import TaskJob, TaskResult, confined_log_path
from ledgerflow.engine.runtime.worker import execute

T = TypeVar("T")


class _Session:
    conn: psycopg.Connection[Any] | None = None
    running: try_tables.Key | None = None  # the try this process runs: the only one it heartbeats


def _db() -> psycopg.Connection[Any]:
    if _Session.conn is None or _Session.conn.closed:
        _Session.conn = try_tables.connect(resolve_url())
    return _Session.conn


def _beat(interval: float, host: str, pid: int) -> None:
    conn: psycopg.Connection[Any] | None = None
    while True:
        try:
            conn = conn if conn is not None and not conn.closed else try_tables.connect(resolve_url())
            if _Session.running is not None:
                try_tables.heartbeat(conn, _Session.running, host, pid)
        except psycopg.Error:  # the database is away: the next beat tries again
            conn = None
        threading.Event().wait(interval)


def start_process() -> None:
    """In each new worker process: SIGTERM stops the try it runs, and its heartbeat starts."""
    try_stop.install()
    _Session.conn = None
    interval = max(0.2, settings.heartbeat_timeout() / 4)
    threading.Thread(target=_beat, args=(interval, settings.hostname(), os.getpid()), daemon=True,
                     name="ledgerflow-heartbeat").start()


def _here(job: TaskJob) -> TaskJob:
    """The job with this machine's log path and, when LEDGERFLOW_DAGS_FOLDER is set, DAG folder."""
    changes: dict[str, Any] = {}
    log = confined_log_path(job.dag_id, job.run_id, job.task_id, job.try_number)
    changes["log_path"] = str(log or "")
    if not log:
        changes["unrunnable"] = job.unrunnable or f"the log of run_id {job.run_id!r} would be outside the logs folder"
    folder = os.environ.get("LEDGERFLOW_DAGS_FOLDER")
    if folder and job.dag_folder and Path(job.fileloc).is_relative_to(job.dag_folder):
        mine = settings.dags_folder().resolve()
        changes.update(fileloc=str(mine / Path(job.fileloc).relative_to(job.dag_folder)), dag_folder=str(mine))
    return dataclasses.replace(job, **changes)


def run_try(wire: dict[str, Any]) -> None:
    """Runs the try unless another delivery claimed it; a stop before it ended hands it back."""
    from celery.exceptions import Reject

    job = _here(from_wire(wire))
    key = (job.run_uuid, job.task_id, job.try_number)
    host, pid = settings.hostname(), os.getpid()
    if not _claimed(key, host, pid):
        return  # a duplicate delivery, or a try stopped before it was claimed
    _Session.running = key
    try:
        result = execute(job)
    except try_stop.TryStopped:
        _Session.running = None
        try_stop.reset()
        try_tables.release(_db(), key, host, pid)
        raise Reject("the worker is stopping; the try goes back to the queue", requeue=True) from None
    _record(job, key, result, host, pid)


def _in_session(work: Callable[[psycopg.Connection[Any]], T]) -> T:
    """Runs `work` on this process's session, opening it again once if the database dropped it."""
    try:
        return work(_db())
    except psycopg.OperationalError:
        _drop_session()
    return work(_db())


def _claimed(key: try_tables.Key, host: str, pid: int) -> bool:
    """Claims the try; a database that is away sends the try back to the queue rather than losing it."""
    from celery.exceptions import Reject

    try:
        return _in_session(lambda conn: try_tables.claim(conn, key, host, pid))
    except psycopg.OperationalError:
        _drop_session()
        raise Reject("the database is away; the try goes back to the queue", requeue=True) from None


def _drop_session() -> None:
    if _Session.conn is not None:
        _Session.conn.close()
    _Session.conn = None


def _record(job: TaskJob, key: try_tables.Key, result: TaskResult, host: str, pid: int) -> None:
    log_row = None
    if job.log_path and Path(job.log_path).is_file():
        log_row = row_of(TryLog(job.run_uuid, job.task_id, job.try_number, job.log_path),
                         Path(job.log_path).read_bytes())
    try:  # an outcome it cannot record is lost with its heartbeat: the driver fails the try, retries apply
        _in_session(lambda conn: try_tables.finish(conn, key, host, pid, result_to_wire(result), log_row))
    finally:
        _Session.running = None
