"""The pure fold of a Backfill's events into its state, shared by the aggregate, the views and
as-of reads (as run_state is for runs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ACTIVE_STATES = frozenset({"running", "paused"})
REPROCESS_BEHAVIORS = ("none", "failed", "completed")
FOREGROUND, SCHEDULER = "foreground", "scheduler"


class BackfillState:
    """A backfill as its events left it.

    `dates` maps each logical date to (run_id, decision, base_version): the version its run had
    when the backfill decided (0: no run), so a run at a later version was started by it.
    """

    __slots__ = ("id", "dag_id", "from_date", "to_date", "reprocess_behavior", "max_active_runs",
                 "run_backwards", "dag_run_conf", "is_paused", "state", "created_at", "completed_at",
                 "created_by", "driver", "dates")

    def __init__(self, d: Mapping[str, Any], at: str) -> None:
        self.id: int = d["number"]
        self.dag_id: str = d["dag_id"]
        self.from_date: str = d["from_date"]
        self.to_date: str = d["to_date"]
        self.reprocess_behavior: str | None = d["reprocess_behavior"]
        self.max_active_runs: int = d["max_active_runs"]
        self.run_backwards: bool = d["run_backwards"]
        self.dag_run_conf: dict[str, Any] | None = d["dag_run_conf"]
        self.driver: str = d["driver"]
        self.created_by: str = d["actor"]
        self.created_at: str = at
        self.completed_at: str | None = None
        self.is_paused = False
        self.state = "running"
        self.dates: dict[str, tuple[str, str, int]] = {ld: (rid, why, base) for ld, rid, why, base in d["dates"]}

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def row(self) -> dict[str, Any]:
        """The JSON fields of DESIGN.md for a backfill."""
        return {"id": self.id, "dag_id": self.dag_id, "from_date": self.from_date, "to_date": self.to_date,
                "reprocess_behavior": self.reprocess_behavior, "max_active_runs": self.max_active_runs,
                "run_backwards": self.run_backwards, "dag_run_conf": self.dag_run_conf,
                "is_paused": self.is_paused, "state": self.state, "created_at": self.created_at,
                "completed_at": self.completed_at, "created_by": self.created_by}

    def to_drive(self) -> list[str]:
        """The logical dates it runs (created or adopted), in its order."""
        return sorted((ld for ld, (_, why, _) in self.dates.items() if not why.startswith("skipped")),
                      reverse=self.run_backwards)


CANCELLED = "skipped: cancelled"


def evolve_backfill(state: BackfillState | None, kind: str, d: Mapping[str, Any], at: str) -> BackfillState:
    """Applies one event (its class name, payload and recorded time) and returns the state."""
    if kind == "Created":
        return BackfillState(d, at)
    assert state is not None, f"{kind} before Created"
    if kind == "Paused":
        state.is_paused, state.state = True, "paused"
    elif kind == "Unpaused":
        state.is_paused, state.state, state.driver = False, "running", d["driver"]
    elif kind == "Cancelled":
        state.is_paused, state.state, state.completed_at = False, "cancelled", at
        for ld in d["skipped"]:
            run_id, _, base = state.dates[ld]
            state.dates[ld] = (run_id, CANCELLED, base)
    elif kind == "Completed":
        state.is_paused, state.state, state.completed_at = False, "completed", at
    else:
        raise ValueError(f"unknown Backfill event {kind}")
    return state
