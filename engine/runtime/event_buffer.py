"""The DagRun events a driver has decided and not yet appended.

They are appended in batches (every FLUSH_EVENTS events or FLUSH_SECONDS), and
always before a try they start is submitted, so the store knows what runs. Tries'
outcomes are appended as they arrive (those that arrive together in one append, after
their logs); until then the try journal keeps them, and each is forgotten there once
appended. A try a worker began is appended as it is reported, too.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.infrastructure import task_logs, try_journal
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.infrastructure.task_logs import TryLog
from ledgerflow.engine.infrastructure.try_journal import TryKey

FLUSH_EVENTS = 5_000
FLUSH_SECONDS = 1.0


class EventBuffer:
    def __init__(self, op: OperationContext) -> None:
        self.op = op
        self.dirty: dict[UUID, Any] = {}  # aggregates with events to append
        self.outcomes: list[TryKey] = []  # tries whose outcome is in these events, kept in the journal
        self.logs: list[TryLog] = []  # their logs, stored just before the events
        self._count = 0
        self._last = time.monotonic()
        self._prompt = False

    def track(self, agg: Any, new_events: int = 1) -> None:
        """Marks an aggregate as having events to append."""
        self.dirty[agg.id] = agg
        self._count += new_events

    def change(self, agg: DagRun, changes: list[dict[str, Any]]) -> None:
        if changes:
            agg.trigger_event(DagRun.TaskInstancesChanged, **self.op.stamp, changes=changes)
            self.track(agg)

    def set_run_state(self, agg: DagRun, state: str) -> None:
        if agg.run.state != state:
            agg.trigger_event(DagRun.StateChanged, **self.op.stamp, from_state=agg.run.state, to_state=state)
            self.track(agg)

    def due(self, *, force: bool) -> bool:
        """Whether to append now: anything pending when forced, else a full batch or an old one."""
        if not self.dirty and not self.op.pending():
            return False
        if force or self.outcomes or self._prompt or self._count >= FLUSH_EVENTS:
            return True
        return time.monotonic() - self._last >= FLUSH_SECONDS

    def prompt(self) -> None:
        """What is pending is to be appended at once: a try began on a worker, so its state now says running."""
        self._prompt = True

    def ended(self, key: TryKey, log: TryLog) -> None:
        """A try's outcome is among the changes: to append at once (after its log), then to forget in
        the journal."""
        self.outcomes.append(key)
        self.logs.append(log)

    def store_logs(self, ledger: Ledger) -> None:
        here = task_logs.here(self.logs)  # a try run on another machine stored its own
        if here:
            with ledger.transaction() as curs:
                task_logs.store(curs, here)

    def appended(self) -> None:
        try_journal.forget(self.outcomes)
        self.outcomes.clear()
        self.logs.clear()
        self.dirty.clear()
        self._count = 0
        self._last = time.monotonic()
        self._prompt = False
