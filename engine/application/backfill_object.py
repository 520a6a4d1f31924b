"""The Backfill object a driver works for: claimed before it runs, leased while it runs, its end recorded.

A foreground backfill (`dags backfill`) is active only while its process holds the
lease; one whose process is gone is abandoned: another backfill of the DAG may
start, and re-running its command resumes it. A backfill the scheduler drives is
active until it completes or is cancelled.
"""

from __future__ import annotations

import time
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from ledgerflow.engine.domain.backfill import Backfill, backfill_uuid
from ledgerflow.engine.domain.backfill_state import FOREGROUND, SCHEDULER, BackfillState
from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.outcome import Outcome
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.errors import ConcurrentModification, Conflict, Term
from ledgerflow.engine.infrastructure.locks import backfill_leased
from ledgerflow.engine.infrastructure.store import EVENTS_TABLE, Ledger

ATTEMPTS = 5
WATCH_SECONDS = 1.0


def load_backfill(ledger: Ledger, number: int) -> Backfill | None:
    try:
        found: Backfill = ledger.repository.get(backfill_uuid(number))
    except AggregateNotFoundError:
        return None
    return found


def active_backfill(ledger: Ledger, dag_id: str) -> int | None:
    """The DAG's active backfill: one the scheduler drives, unfinished, or a live foreground one."""
    for number, _, driver in views(ledger).unfinished_backfills(dag_id):
        if driver == SCHEDULER or backfill_leased(ledger, number):
            return number
    return None


def refuse_second(ledger: Ledger, dag_id: str) -> None:
    """One active backfill per DAG: a second is refused, naming the active one."""
    active = active_backfill(ledger, dag_id)
    if active is not None:
        raise Conflict(f"backfill {active} of DAG {dag_id} is active; one backfill per DAG at a time (",
                             Term("backfill_cancel", f"wait for backfill {active} to complete or cancel it"), ")")


def resumable(ledger: Ledger, dag_id: str, from_date: str, to_date: str) -> Backfill | None:
    """An unfinished foreground backfill of the same range whose process is gone: the same command resumes it."""
    for number, _, driver in views(ledger).unfinished_backfills(dag_id):
        if driver == FOREGROUND and not backfill_leased(ledger, number):
            agg = load_backfill(ledger, number)
            if agg is not None and (agg.state.from_date, agg.state.to_date) == (from_date, to_date):
                return agg
    return None


def append_new(ledger: Ledger, op: OperationContext, fields: dict[str, Any], *, close: bool = False) -> Backfill:
    """Records a new backfill under the next free number (another create that took it first: the next one);
    `close`: the operation's end goes in the same append."""
    started = op.started()
    kept = list(started.pending_events)
    for attempt in range(ATTEMPTS):
        number = views(ledger).next_backfill_id()
        agg = Backfill.start(op.stamp, number=number, **fields)
        if close:
            op.ended("success", backfill_id=number)
        try:
            ledger.append(started, agg)
            return agg
        except ConcurrentModification:
            started.pending_events[:] = kept
            if attempt == ATTEMPTS - 1:
                raise
            views(ledger).catch_up()
    raise AssertionError("unreachable")


def record(ledger: Ledger, number: int, event: type[Backfill.Event], op: OperationContext,
           *, with_op: bool = False, **fields: Any) -> Backfill | None:
    """Appends one event to the backfill as stored now (re-read if another change got in first);
    None when it is finished already and so takes no more events."""
    ops = op.pending() if with_op else []
    kept = [(a, list(a.pending_events)) for a in ops]
    for attempt in range(ATTEMPTS):
        agg = load_backfill(ledger, number)
        if agg is None or not agg.state.active:
            return None
        agg.record(event, op.stamp, **fields)
        try:
            ledger.append(*ops, agg)
            return agg
        except ConcurrentModification:
            for a, events in kept:
                a.pending_events[:] = events
            if attempt == ATTEMPTS - 1:
                raise
    return None


def end_foreground(ledger: Ledger, number: int, op: OperationContext, outcome: Outcome | None) -> None:
    """A foreground driver's end: completed when every date ran, else paused (work left, nobody drives it)."""
    agg = load_backfill(ledger, number)
    if agg is None or agg.state.state != "running":
        return  # paused or cancelled meanwhile by someone else: that stays
    done = outcome is not None and not (outcome.not_started or outcome.blocked or outcome.held_by or outcome.stopped)
    record(ledger, number, Backfill.Completed if done else Backfill.Paused, op)


class Watch:
    """Whether someone paused or cancelled the backfill being driven (asked at most once a second)."""

    def __init__(self, ledger: Ledger, agg: Backfill) -> None:
        self.ledger, self.uuid, self.version = ledger, agg.id, agg.version
        self._next = 0.0
        self.halted: str | None = None

    def __call__(self) -> bool:
        if self.halted is None and time.monotonic() >= self._next:
            self._next = time.monotonic() + WATCH_SECONDS
            with self.ledger.cursor() as curs:
                curs.execute(f"SELECT topic FROM {EVENTS_TABLE} WHERE originator_id = %s AND originator_version > %s",
                             (self.uuid, self.version))
                kinds = [r["topic"].rpartition(".")[2] for r in curs.fetchall()]
            self.halted = next((k.lower() for k in kinds if k in ("Paused", "Cancelled")), None)
        return self.halted is not None


def unstarted(ledger: Ledger, state: BackfillState) -> list[str]:
    """The logical dates it would run that it has not started yet (no run, or its run unchanged since)."""
    found = views(ledger).runs(state.dag_id, from_iso(state.from_date), from_iso(state.to_date))
    runs = {run.logical_date: version for _, (version, run) in found.items()}
    return [ld for ld in state.to_drive() if runs.get(ld, 0) <= state.dates[ld][2]]
