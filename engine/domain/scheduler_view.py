"""What the scheduler's pick-next reads of every DAG at once (the views answer it in one go)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SchedulerView:
    """Every DAG's share of the scheduler's pick-next, read at once: the states of its runs to drive
    (queued, running; none a backfill holds), whether it has a backfill for the scheduler to drive, and
    the logical dates of its runs (for the dates now due)."""

    backfills: set[str]
    waiting: dict[str, set[str]] = field(default_factory=dict)
    run_dates: dict[str, set[datetime]] = field(default_factory=dict)
