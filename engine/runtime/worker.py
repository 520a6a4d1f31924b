"""Runs one try of one task instance and reports how it ended.

The worker checks the DAG file's fingerprint against the one the command
planned with: by default a changed file refuses to run (the code that ran must
be the code that was planned); with --donot-pickle it runs its own version and
records that version's fingerprint.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import signal
import subprocess
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ledgerflow.engine.authoring.dag import DAG, BashTask, PythonTask, SubDagTask
from ledgerflow.engine.authoring.dagbag import fingerprint_of, load_file
from ledgerflow.engine.authoring.templating import build_context, call_with_context, rendered_fields
from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.domain.run_state import RunState
from ledgerflow.engine.infrastructure import settings

_PR_SET_PDEATHSIG = 1
_LOADED: dict[tuple[str, str, str], DAG] = {}


def remember(dag: DAG) -> None:
    """Keeps a loaded DAG so forked workers reuse it instead of re-importing its file."""
    if dag.fileloc and dag.fingerprint:
        _LOADED[(dag.fileloc, dag.fingerprint, dag.dag_id)] = dag


@dataclass(frozen=True)
class TaskJob:
    run_uuid: str
    dag_id: str
    task_id: str
    run_id: str
    run_type: str
    try_number: int
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    conf: dict[str, Any]
    fileloc: str
    planned_fingerprint: str
    check_fingerprint: bool
    log_path: str
    timeout: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.run_uuid, self.task_id)

    @classmethod
    def for_try(cls, run_uuid: Any, run: RunState, dag: DAG, task_id: str, try_number: int, *,
                check_fingerprint: bool) -> TaskJob:
        """The job for one try, with the DAG version the command planned with."""
        timeout = dag.tasks[task_id].execution_timeout
        log_path = settings.logs_dir() / run.dag_id / run.run_id / task_id / f"attempt={try_number}.log"
        return cls(
            run_uuid=str(run_uuid), dag_id=run.dag_id, task_id=task_id, run_id=run.run_id,
            run_type=run.run_type, try_number=try_number,
            logical_date=from_iso(run.logical_date),
            data_interval_start=from_iso(run.data_interval_start),
            data_interval_end=from_iso(run.data_interval_end),
            conf=run.conf, fileloc=dag.fileloc or "", planned_fingerprint=dag.fingerprint or "",
            check_fingerprint=check_fingerprint, log_path=str(log_path),
            timeout=timeout.total_seconds() if isinstance(timeout, timedelta) else timeout,
        )


@dataclass
class TaskResult:
    key: tuple[str, str]
    state: str  # "success" or "failed"
    error: str | None = None
    log_sha256: str | None = None
    fingerprint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ExecutionTimeout(Exception):
    pass


def _dag_for(job: TaskJob) -> tuple[DAG, str]:
    found = fingerprint_of(Path(job.fileloc))
    if found != job.planned_fingerprint and job.check_fingerprint:
        raise RuntimeError(
            f"DAG file {job.fileloc} changed since the command planned "
            f"(planned {job.planned_fingerprint[:12]}, found {found[:12]}); "
            f"refusing to run a different version (use -x/--donot-pickle to allow it)"
        )
    key = (job.fileloc, found, job.dag_id)
    if key not in _LOADED:
        for candidate in load_file(Path(job.fileloc)):
            remember(candidate)
    if key not in _LOADED:
        raise RuntimeError(f"DAG {job.dag_id} is no longer defined in {job.fileloc}")
    return _LOADED[key], found


@contextlib.contextmanager
def _alarm(seconds: float | None):  # type: ignore[no-untyped-def]
    if not seconds:
        yield
        return

    def expire(*_: Any) -> None:
        raise ExecutionTimeout(f"execution_timeout of {seconds:g}s exceeded")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _captured(log: Any):  # type: ignore[no-untyped-def]
    """Sends Python-level and file-descriptor-level stdout/stderr to the try's log."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield
    finally:
        log.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def die_with_parent() -> None:
    """Asks Linux to SIGKILL this process when its parent dies (no orphaned tries)."""
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _run_bash(command: str, env: dict[str, str] | None, log: Any, timeout: float | None) -> None:
    full_env = None if env is None else {**env}
    proc = subprocess.Popen(
        ["bash", "-c", command], stdout=log, stderr=subprocess.STDOUT, env=full_env,
        start_new_session=True, preexec_fn=die_with_parent,
    )
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise ExecutionTimeout(f"execution_timeout of {timeout:g}s exceeded") from None
    if code != 0:
        raise RuntimeError(f"bash command exited with code {code}")


def execute(job: TaskJob) -> TaskResult:
    """Runs the task; every outcome, including a refused fingerprint, becomes a TaskResult."""
    log_path = Path(job.log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    error: str | None = None
    fingerprint: str | None = None
    with open(log_path, "w", buffering=1) as log:
        try:
            dag, fingerprint = _dag_for(job)
            task = dag.tasks[job.task_id]
            context = build_context(
                dag_params=dag.params, conf=job.conf, run_id=job.run_id, run_type=job.run_type,
                task_id=job.task_id, logical_date=job.logical_date,
                data_interval_start=job.data_interval_start,
                data_interval_end=job.data_interval_end, try_number=job.try_number,
            )
            fields = rendered_fields(task, context)
            if isinstance(task, BashTask):
                _run_bash(fields["bash_command"], fields["env"], log, job.timeout)
            elif isinstance(task, PythonTask):
                with _captured(log), _alarm(job.timeout):
                    call_with_context(task.python_callable, context, fields["op_kwargs"])
            elif isinstance(task, SubDagTask):
                from ledgerflow.engine.runtime.subdag import run_subdag

                run_subdag(task, job, log)
        except (Exception, SystemExit) as exc:  # the task's own failure, sys.exit() too: record it, never crash
            error = f"{type(exc).__name__}: {exc}"
            log.write(traceback.format_exc())
    digest = hashlib.sha256(log_path.read_bytes()).hexdigest()
    return TaskResult(job.key, "failed" if error else "success", error, digest, fingerprint)
