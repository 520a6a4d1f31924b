"""A try as executors carry it (a frozen, picklable job) and how it ended (its result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.domain.run_state import RunState
from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.infrastructure.try_journal import TryKey
from ledgerflow.engine.runtime.prev_success import PrevSuccess


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
    dag_folder: str
    planned_fingerprint: str
    check_fingerprint: bool
    log_path: str
    timeout: float | None = None
    unrunnable: str | None = None  # why the try fails without running (its log would land outside the logs folder)
    retries: int = 0  # of the task as the driver planned it: whether a failure is up_for_retry
    stamp: dict[str, Any] = field(default_factory=dict)  # the operation that started the try
    prev_success: PrevSuccess | None = None  # the DAG's latest earlier successful run
    max_tries: int = 0  # of the task instance when the try started
    queue: str = "default"  # the task's: which Celery workers may run the try

    @property
    def retries_left(self) -> bool:
        """Whether a failure of this try (not a final one) is up_for_retry, by ended_change's rule."""
        return self.retries > 0 and self.try_number <= self.max_tries

    @property
    def key(self) -> tuple[str, str]:
        return (self.run_uuid, self.task_id)

    @property
    def try_key(self) -> TryKey:
        return TryKey(self.dag_id, self.run_uuid, self.task_id, self.try_number)

    @classmethod
    def for_try(cls, run_uuid: Any, run: RunState, dag: DAG, task_id: str, try_number: int, *,
                check_fingerprint: bool, retries: int = 0, stamp: dict[str, Any] | None = None,
                prev_success: RunState | None = None) -> TaskJob:
        """The job for one try, with the DAG version the command planned with."""
        task = dag.tasks[task_id]
        timeout = task.execution_timeout
        log_path = confined_log_path(run.dag_id, run.run_id, task_id, try_number)
        unrunnable = None if log_path else (f"the log of run_id {run.run_id!r} task {task_id!r} would be outside "
                                            f"{settings.logs_dir()}; the try was not run")
        return cls(
            run_uuid=str(run_uuid), dag_id=run.dag_id, task_id=task_id, run_id=run.run_id,
            run_type=run.run_type, try_number=try_number,
            logical_date=from_iso(run.logical_date),
            data_interval_start=from_iso(run.data_interval_start),
            data_interval_end=from_iso(run.data_interval_end),
            conf=run.conf, fileloc=dag.fileloc or "", dag_folder=dag.folder or "",
            planned_fingerprint=dag.fingerprint or "",
            check_fingerprint=check_fingerprint, log_path=str(log_path or ""),
            timeout=timeout.total_seconds() if isinstance(timeout, timedelta) else timeout,
            unrunnable=unrunnable, retries=retries, stamp=dict(stamp or {}),
            prev_success=PrevSuccess.of(prev_success), max_tries=run.tis[task_id].max_tries,
            queue=str(task.queue or "default"),
        )


def confined_log_path(dag_id: str, run_id: str, task_id: str, try_number: int) -> Path | None:
    """LEDGERFLOW_HOME/logs/DAG/RUN/TASK/attempt=N.log resolved, or None when the ids lead elsewhere.

    The ids are checked where they are given; this holds for runs recorded before that, too.
    """
    return confined_log(dag_id, run_id, task_id, f"attempt={try_number}.log")


def confined_log(*parts: str) -> Path | None:
    """LEDGERFLOW_HOME/logs/PARTS... resolved, or None when the parts lead elsewhere (.., /, a symlink)."""
    root = settings.logs_dir().resolve()
    try:
        path = root.joinpath(*parts).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    return path if path.is_relative_to(root) and path.relative_to(root).parts == parts else None


@dataclass
class TaskResult:
    key: tuple[str, str]
    # "success", "failed", "skipped", or "refused": it did not run (its DAG file changed); "running" is no
    # end: a queueing executor's word that a worker began the try
    state: str
    error: str | None = None
    log_sha256: str | None = None
    fingerprint: str | None = None
    xcom: dict[str, Any] | None = None  # the values the try pushed (JSON, size-checked), by key
    skip: tuple[str, ...] = ()  # downstream task ids the try skipped (a branch, a short-circuit)
    final: bool = False  # failed without its retries (AirflowFailException)
    hostname: str | None = None  # the machine the try ran on
    pid: int | None = None  # the worker process that began it ("running" only)
