"""The commands faces give the application service: what was asked, as plain frozen values.

Each records its given options with its operation (`arguments()`), so the audit
trail says exactly what was asked, whichever face asked it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def command_arguments(request: object) -> dict[str, Any]:
    """A command dataclass's given options, as recorded with its operation (paths as text)."""
    return {k: str(v) if isinstance(v, Path) else v
            for k, v in vars(request).items() if v not in (None, False)}


@dataclass(frozen=True)
class TriggerDagRun:
    dag_id: str
    logical_date: str | None = None
    conf: str | None = None
    run_id: str | None = None
    subdir: Path | None = None
    reason: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class SetPool:
    name: str
    slots: int
    reason: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class BackfillRequest:
    dag_id: str
    start: str | None = None
    end: str | None = None
    conf: str | None = None
    subdir: Path | None = None
    task_regex: str | None = None
    ignore_dependencies: bool = False
    ignore_first_depends_on_past: bool = False
    run_backwards: bool = False
    rerun_failed_tasks: bool = False
    reset_dagruns: bool = False
    mark_success: bool = False
    pool: str | None = None
    continue_on_failures: bool = False
    delay_on_limit: float = 1.0
    donot_pickle: bool = False
    dry_run: bool = False
    local: bool = False
    verbose: bool = False
    yes: bool = False
    reason: str | None = None
    actor: str | None = None
    disable_retry: bool = False  # a failed try fails its task instance, whatever its retries

    def arguments(self) -> dict[str, Any]:
        return command_arguments(self)


@dataclass(frozen=True)
class ClearTaskInstances:
    dag_id: str
    dag_regex: bool = False
    task_regex: str | None = None
    upstream: bool = False
    downstream: bool = False
    start: str | None = None
    end: str | None = None
    only_failed: bool = False
    only_running: bool = False
    exclude_subdags: bool = False
    exclude_parentdag: bool = False
    future: bool = False
    past: bool = False
    break_lineage: bool = False
    prevent_running: bool = False  # refuse, rather than restart, a selection with running instances
    subdir: Path | None = None
    dry_run: bool = False
    yes: bool = False
    reason: str | None = None
    actor: str | None = None

    def arguments(self) -> dict[str, Any]:
        return command_arguments(self)

    @property
    def states(self) -> frozenset[str] | None:
        """The state filter of -f / -r (their union when both are given)."""
        wanted: set[str] = set()
        if self.only_failed:
            wanted |= {"failed", "upstream_failed"}
        if self.only_running:
            wanted.add("running")
        return frozenset(wanted) or None


@dataclass(frozen=True)
class CreateUser:
    username: str
    role: str
    password: str = field(repr=False)
    reason: str | None = None
    actor: str | None = None

    def arguments(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role}  # never the password


@dataclass(frozen=True)
class SetUserRole:
    username: str
    role: str
    reason: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class DisableUser:
    username: str
    reason: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class MarkTaskInstances:
    """Sets task instances to success or failed (Airflow's mark success/failed), or lists them (dry_run)."""

    dag_id: str
    run_id: str
    task_id: str
    state: str
    upstream: bool = False
    downstream: bool = False
    future: bool = False
    past: bool = False
    dry_run: bool = False
    subdir: Path | None = None
    reason: str | None = None
    actor: str | None = None

    def arguments(self) -> dict[str, Any]:
        return command_arguments(self)


@dataclass(frozen=True)
class CreateBackfill:
    """`backfill create`: a backfill object the scheduler drives (Airflow 3's parameters)."""

    dag_id: str
    from_date: str
    to_date: str
    reprocess_behavior: str = "none"
    max_active_runs: int | None = None  # the DAG's own when not given
    run_backwards: bool = False
    dag_run_conf: str | None = None
    dry_run: bool = False
    subdir: Path | None = None
    reason: str | None = None
    actor: str | None = None

    def arguments(self) -> dict[str, Any]:
        return command_arguments(self)
