"""How a runner picks up clears that another process appended to the runs it drives.

`tasks clear` appends Cleared events to runs whichever process drives them. The
runner notices them here, at most every CHECK_EVERY seconds of its loop: it
reloads each changed run from the event store and re-applies on top the events it
had not stored yet (changes a clear overtook are dropped and decided again by the
next pass), stops the tries the clear set to restarting and records them
up_for_retry. An append that loses the race to a clear goes through the same
reload and is retried, so neither side's events are lost or applied twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Protocol
from uuid import UUID

from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.deps import run_outcome
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.run_state import RUN_FINISHED, RunState, ti_change
from ledgerflow.engine.errors import ConcurrentModification
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.infrastructure.stored_runs import cleared_between, head, load_run, stored_versions
from ledgerflow.engine.runtime.event_buffer import EventBuffer
from ledgerflow.engine.runtime.executors import Executor
from ledgerflow.engine.runtime.history import RunHistory
from ledgerflow.engine.runtime.jobs import TaskResult
from ledgerflow.engine.runtime.slots import Slots

CHECK_EVERY = 0.25
APPEND_ATTEMPTS = 5
_BASE_KEYS = frozenset({"originator_id", "originator_version", "timestamp"})


class Driving(Protocol):
    """What a clear watch reads of its runner, and the only ways it changes it."""

    ledger: Ledger
    op: OperationContext
    dag: DAG
    full_dag: DAG
    order: list[str]
    leaves: list[str]
    active: dict[UUID, DagRun]
    events: EventBuffer
    history: RunHistory
    slots: Slots
    executor: Executor | None

    def apply_results(self, results: Iterable[TaskResult]) -> None: ...

    def replace(self, uid: UUID, agg: DagRun) -> None: ...

    def reopened(self, closed: RunState, agg: DagRun) -> None: ...

    def retry_now(self, uid: UUID, task_id: str) -> None: ...


class ClearWatch:
    """One per runner; `poll()` each loop, `append()` instead of a bare ledger append."""

    def __init__(self, runner: Driving) -> None:
        self.runner = runner
        self.checked = float("-inf")
        self.mark: int | None = None

    # -- noticing ------------------------------------------------------------------

    def poll(self) -> None:
        if time.monotonic() - self.checked < CHECK_EVERY:
            return
        self.checked = time.monotonic()
        r = self.runner
        with r.ledger.cursor() as curs:
            top = head(curs)
            if self.mark is None:
                cleared = stored_versions(curs, self._driven())
            else:
                cleared = cleared_between(curs, self.mark, top)
            self.mark = top
        for uid, version in cleared.items():
            agg = r.active.get(uid) or r.events.dirty.get(uid)
            if agg is not None:
                if version > agg.version - len(agg.pending_events):
                    self.rebase(uid)
            else:
                self._refresh_history(uid)

    def append(self) -> None:
        """Appends the runner's pending events; a clear that got in first is folded in."""
        r = self.runner
        for attempt in range(APPEND_ATTEMPTS):
            aggs = [*r.op.pending(), *r.events.dirty.values()]
            kept = [(agg, list(agg.pending_events)) for agg in aggs]
            try:
                r.ledger.append(*aggs)
                return
            except ConcurrentModification:
                for agg, events in kept:  # a failed append has already collected them
                    agg.pending_events[:] = events
                if attempt == APPEND_ATTEMPTS - 1:
                    raise
                with r.ledger.cursor() as curs:
                    stored = stored_versions(curs, self._driven())
                moved = [
                    uid for uid, v in stored.items()
                    if (agg := r.active.get(uid) or r.events.dirty.get(uid)) is not None
                    and v > agg.version - len(agg.pending_events)
                ]
                if not moved:
                    raise
                for uid in moved:
                    self.rebase(uid)

    def _driven(self) -> list[UUID]:
        r = self.runner
        return [uid for uid, agg in {**r.events.dirty, **r.active}.items() if isinstance(agg, DagRun)]

    def _refresh_history(self, uid: UUID) -> None:
        """A run this runner already closed was cleared: depends_on_past must see it."""
        r = self.runner
        found = load_run(r.ledger, uid)
        if found is None or found[1].dag_id != r.full_dag.dag_id:
            return
        r.history.refresh(found[1])

    # -- folding in ------------------------------------------------------------------

    def rebase(self, uid: UUID) -> None:
        r = self.runner
        old = r.active.get(uid) or r.events.dirty[uid]
        ours = list(old.pending_events)
        found = load_run(r.ledger, uid)
        assert found is not None
        agg = DagRun.resume(uid, *found)
        for event in ours:
            self._reapply(uid, agg, event)
        closed_by_us = any(
            isinstance(e, DagRun.StateChanged) and e.to_state in RUN_FINISHED for e in ours
        )
        if uid not in r.active and closed_by_us and agg.run.state not in RUN_FINISHED:
            # The runner had closed the run; the clear reopened it. Queued, it goes to the
            # next driver (the scheduler) instead of staying running with nobody on it.
            r.reopened(old.run, agg)
        if uid in r.active:
            r.events.set_run_state(agg, "running")
        r.replace(uid, agg)
        if uid in r.active:
            self._restart(uid, agg)

    def _reapply(self, uid: UUID, agg: DagRun, event: Any) -> None:
        kind = type(event).__name__
        data = {k: v for k, v in event.__dict__.items() if k not in _BASE_KEYS}
        if kind == "Created":
            raise ConcurrentModification(
                f"run {data['run_id']} of {data['dag_id']} was created by another operation meanwhile"
            )
        if kind == "TaskInstancesChanged":
            data["changes"] = [c for c in (self._rebased(uid, agg, c) for c in data["changes"]) if c]
            if data["changes"]:
                agg.trigger_event(type(event), **data)
        elif kind in ("Cleared", "Reset"):
            data["changes"] = [c for c in data["changes"] if _state(agg, c["task_id"]) == c["from"]]
            data["run_from"] = agg.run.state
            data["run_to"] = "queued" if agg.run.state in RUN_FINISHED else agg.run.state
            if data["changes"] or data["run_to"] != data["run_from"]:
                agg.trigger_event(type(event), **data)
        elif kind == "StateChanged":
            to = data["to_state"]
            if agg.run.state != data["from_state"]:
                return
            if to in RUN_FINISHED and self._outcome(agg) != to:
                return  # the clear undid what finished the run
            agg.trigger_event(type(event), **data)
        else:
            agg.trigger_event(type(event), **data)

    def _outcome(self, agg: DagRun) -> str | None:
        r = self.runner
        tis = agg.run.tis
        return run_outcome({t: tis[t].state for t in r.order if t in tis}, r.leaves)

    def _rebased(self, uid: UUID, agg: DagRun, change: dict[str, Any]) -> dict[str, Any] | None:
        r = self.runner
        task_id = change["task_id"]
        ti = agg.run.tis.get(task_id)
        if change["to"] == "queued" or (change["to"] == "running" and change["from"] != "queued"):
            # a start decided on the old state: not submitted (queued to running is a worker's: it was)
            r.slots.release((str(uid), task_id))
            return None
        if ti is None:
            return change
        if ti.state == change["from"]:
            return {**change, "max_tries": ti.max_tries}
        if ti.state == "restarting" and change["from"] == "running":
            r.retry_now(uid, task_id)
            return {**change, "from": "restarting", "to": "up_for_retry", "restarted": True,
                    "result": change["to"], "try_number": ti.try_number, "max_tries": ti.max_tries}
        return None

    def _restart(self, uid: UUID, agg: DagRun) -> None:
        """Stops the tries a clear set to restarting; they become up_for_retry."""
        r = self.runner
        restarting = [t for t, ti in agg.run.tis.items() if ti.state == "restarting"]
        if not restarting:
            return
        keys = {(str(uid), t) for t in restarting}
        finished: dict[tuple[str, str], TaskResult] = {}
        if r.executor is not None:
            for key in keys & r.slots.in_flight.keys():
                r.executor.stop(key)
            others = []
            for res in r.executor.poll(0):  # a try that ended before the stop reports here
                if res.key not in keys:
                    others.append(res)
                elif res.state != "running":  # a worker began it: that no longer matters
                    finished[res.key] = res
            if others:
                r.apply_results(others)
        changes = []
        for task_id in restarting:
            key = (str(uid), task_id)
            ti = agg.run.tis[task_id]
            held = r.slots.release(key)
            extra: dict[str, Any] = {"restarted": True}
            ended = finished.get(key)
            if ended is not None:
                extra.update(result=ended.state, log_sha256=ended.log_sha256,
                             dag_fingerprint=ended.fingerprint)
            elif held:
                extra["stopped"] = True
            changes.append(ti_change(task_id, ti, "up_for_retry", **extra))
            r.retry_now(uid, task_id)
        r.events.change(agg, changes)


def _state(agg: DagRun, task_id: str) -> str | None:
    ti = agg.run.tis.get(task_id)
    return ti.state if ti else None
