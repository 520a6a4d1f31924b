"""The pure fold of a DagRun's events into its state.

One fold serves the aggregate (write side), the projections (views) and as-of
reads: each receives an event kind (the event class name) and its payload dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

FINISHED = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
SUCCESS_LIKE = frozenset({"success", "skipped"})
FAILED_LIKE = frozenset({"failed", "upstream_failed"})
RUN_FINISHED = frozenset({"success", "failed"})
RUN_STATES = ("queued", "running", "success", "failed")


class TI:
    """A task instance's mutable state inside a run; `xcom`: the values its latest try pushed (None when
    it pushed none, or a clear or a new try superseded them); `hostname`: where its latest try runs or ran,
    as the change that began it on a worker or ended it says (None after any other change)."""

    __slots__ = ("state", "try_number", "max_tries", "xcom", "hostname")

    def __init__(self, state: str | None, try_number: int, max_tries: int) -> None:
        self.state = state
        self.try_number = try_number
        self.max_tries = max_tries
        self.xcom: dict[str, Any] | None = None
        self.hostname: str | None = None

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


def ti_change(task_id: str, ti: TI, to: str | None, *, try_number: int | None = None,
              max_tries: int | None = None, **why: Any) -> dict[str, Any]:
    """A task instance's change as DagRun events carry it: from its current state, keeping its
    try and max_tries unless given; extra keyword arguments record why."""
    return {"task_id": task_id, "from": ti.state, "to": to,
            "try_number": ti.try_number if try_number is None else try_number,
            "max_tries": ti.max_tries if max_tries is None else max_tries, **why}


def _apply_changes(run: RunState, changes: list[dict[str, Any]]) -> None:
    tis = run.tis
    for c in changes:
        ti = tis.get(c["task_id"])
        if ti is None:
            ti = tis[c["task_id"]] = TI(c["to"], c["try_number"], c["max_tries"])
        else:
            ti.state = c["to"]
            ti.try_number = c["try_number"]
            ti.max_tries = c["max_tries"]
        if "xcom" in c:
            ti.xcom = c["xcom"]
        elif c["to"] in (None, "queued", "running"):  # cleared, or a new try: the values are superseded
            ti.xcom = None
        # only a try's start on a worker and its end say where it runs; every other change leaves none, so
        # each change carries all it touches (the views fold a change without reading the task instance's row)
        ti.hostname = c.get("hostname")


def _created(run: RunState | None, d: Mapping[str, Any]) -> RunState:
    return RunState(d)


def _changed(run: RunState, d: Mapping[str, Any]) -> RunState:
    _apply_changes(run, d["changes"])
    return run


def _state_changed(run: RunState, d: Mapping[str, Any]) -> RunState:
    run.state = d["to_state"]
    return run


def _cleared(run: RunState, d: Mapping[str, Any]) -> RunState:
    _apply_changes(run, d["changes"])
    if d["run_to"] != run.state:
        run.clear_number += 1
    run.state = d["run_to"]
    return run


def _adopted(run: RunState, d: Mapping[str, Any]) -> RunState:
    run.run_type = d["run_type"]
    run.conf = d["conf"]
    return run


def _taken_over(run: RunState, d: Mapping[str, Any]) -> RunState:
    return run  # who drives a run is history, not state: the audit trail shows it


def _tasks_added(run: RunState, d: Mapping[str, Any]) -> RunState:
    for tid, mt in d["tasks"].items():
        run.tis.setdefault(tid, TI(None, 0, mt))
    return run


@dataclass(frozen=True)
class RunEventKind:
    """What the fold, the views, the audit trail and the clear watch know of one DagRun event kind."""

    fold: Callable[[Any, Mapping[str, Any]], RunState]
    creates: bool = False  # the run's first event
    adds_tasks: bool = False  # task instances appear: every one of the run is touched
    self_contained: bool = True  # its changes carry every field they touch: no other TI is needed
    run_move: tuple[str, str] | None = None  # the payload keys of the run's own from and to state


RUN_EVENTS: dict[str, RunEventKind] = {
    "Created": RunEventKind(_created, creates=True, adds_tasks=True),
    "TaskInstancesChanged": RunEventKind(_changed),
    "StateChanged": RunEventKind(_state_changed, run_move=("from_state", "to_state")),
    "Cleared": RunEventKind(_cleared, run_move=("run_from", "run_to")),
    "Reset": RunEventKind(_cleared, run_move=("run_from", "run_to")),
    "Adopted": RunEventKind(_adopted),
    "TasksAdded": RunEventKind(_tasks_added, adds_tasks=True, self_contained=False),
    "TakenOver": RunEventKind(_taken_over),
}


def run_event(kind: str) -> RunEventKind:
    try:
        return RUN_EVENTS[kind]
    except KeyError:
        raise ValueError(f"unknown DagRun event {kind}") from None


def evolve(run: RunState | None, kind: str, d: Mapping[str, Any]) -> RunState:
    """Applies one event to a run's state (in place) and returns it."""
    spec = run_event(kind)
    assert run is not None or spec.creates, f"{kind} before Created"
    return spec.fold(run, d)
