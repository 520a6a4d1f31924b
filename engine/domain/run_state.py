"""The pure fold of a DagRun's events into its state.

One fold serves the aggregate (write side), the projections (views) and as-of
reads: each receives an event kind (the event class name) and its payload dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FINISHED = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
SUCCESS_LIKE = frozenset({"success", "skipped"})
FAILED_LIKE = frozenset({"failed", "upstream_failed"})
RUN_FINISHED = frozenset({"success", "failed"})
RUN_STATES = ("queued", "running", "success", "failed")


class TI:
    """A task instance's mutable state inside a run."""

    __slots__ = ("state", "try_number", "max_tries")

    def __init__(self, state: str | None, try_number: int, max_tries: int) -> None:
        self.state = state
        self.try_number = try_number
        self.max_tries = max_tries

    def __repr__(self) -> str:
        return f"TI({self.state!r}, try={self.try_number}, max_tries={self.max_tries})"


class RunState:
    __slots__ = (
        "dag_id", "run_id", "logical_date", "data_interval_start", "data_interval_end",
        "run_type", "state", "conf", "dag_fingerprint", "clear_number", "tis",
    )

    def __init__(self, d: Mapping[str, Any]) -> None:
        self.dag_id: str = d["dag_id"]
        self.run_id: str = d["run_id"]
        self.logical_date: str = d["logical_date"]
        self.data_interval_start: str = d["data_interval_start"]
        self.data_interval_end: str = d["data_interval_end"]
        self.run_type: str = d["run_type"]
        self.state: str = d["state"]
        self.conf: dict[str, Any] = d["conf"]
        self.dag_fingerprint: str | None = d["dag_fingerprint"]
        self.clear_number: int = d.get("clear_number", 0)
        self.tis: dict[str, TI] = {tid: TI(None, 0, mt) for tid, mt in d["tasks"].items()}


def _apply_changes(run: RunState, changes: list[dict[str, Any]]) -> None:
    tis = run.tis
    for c in changes:
        ti = tis.get(c["task_id"])
        if ti is None:
            tis[c["task_id"]] = TI(c["to"], c["try_number"], c["max_tries"])
        else:
            ti.state = c["to"]
            ti.try_number = c["try_number"]
            ti.max_tries = c["max_tries"]


def evolve(run: RunState | None, kind: str, d: Mapping[str, Any]) -> RunState:
    """Applies one event to a run's state (in place) and returns it."""
    if kind == "Created":
        return RunState(d)
    assert run is not None, f"{kind} before Created"
    if kind == "TaskInstancesChanged":
        _apply_changes(run, d["changes"])
    elif kind == "StateChanged":
        run.state = d["to_state"]
    elif kind in ("Cleared", "Reset"):
        _apply_changes(run, d["changes"])
        if d["run_to"] != run.state:
            run.clear_number += 1
        run.state = d["run_to"]
    elif kind == "Adopted":
        run.run_type = d["run_type"]
        run.conf = d["conf"]
    elif kind == "TasksAdded":
        for tid, mt in d["tasks"].items():
            run.tis.setdefault(tid, TI(None, 0, mt))
    else:
        raise ValueError(f"unknown DagRun event {kind}")
    return run
