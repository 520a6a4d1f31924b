"""What driving runs produced: finished runs, failures, blocked task instances, progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.domain.run_state import RunState


@dataclass
class Blocked:
    task_id: str
    run: RunState
    reason: str

    def describe(self) -> str:
        return f"{self.task_id} @ {label(self.run.logical_date)} blocked: {self.reason}"


@dataclass
class Outcome:
    runs_done: int = 0
    failed: list[tuple[RunState, str]] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    not_started: list[datetime] = field(default_factory=list)
    held_by: str | None = None
    stopped: str | None = None  # why the driver stopped starting tries (a changed DAG file)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)  # last error per (run_id, task_id)

    @property
    def ok(self) -> bool:
        return not (self.failed or self.blocked or self.not_started or self.held_by or self.stopped)


def label(logical_date: str) -> str:
    """`2022-09-04` for midnight, the full instant otherwise."""
    moment = from_iso(logical_date)
    return moment.strftime("%Y-%m-%d") if moment.time() == datetime.min.time() else logical_date


@dataclass
class Progress:
    runs_total: int = 0
    runs_done: int = 0
    tis_total: int = 0
    tis_done: int = 0
    running: int = 0
    queued: int = 0  # of the started tries, those still waiting for a worker to take them
    failed: int = 0
    waiting: str | None = None  # why started tries have not begun (no worker takes their queue)
