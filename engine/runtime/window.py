"""The runs a driver holds (its window, at most max_active_runs) and what became of them.

The runner decides and runs tries over this state; a clear of a driven run (see
clear_watch) changes it only through the methods marked for that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from uuid import UUID

from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.dates import now
from ledgerflow.engine.domain.deps import run_outcome
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.outcome import Blocked, Outcome, Progress
from ledgerflow.engine.domain.run_state import FAILED_LIKE, FINISHED, RunState
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.runtime.dag_callbacks import run_ended
from ledgerflow.engine.runtime.event_buffer import EventBuffer
from ledgerflow.engine.runtime.history import RunHistory


class Window:
    def __init__(self, ledger: Ledger, dag: DAG, full_dag: DAG, op: OperationContext, runs: Iterable[RunState],
                 on_progress: Callable[[Progress], None] | None) -> None:
        self.ledger = ledger
        self.dag = dag
        self.full_dag = full_dag
        self.op = op
        self.order = dag.topological_order()
        self.leaves = dag.leaves()
        self.history = RunHistory(runs, manual_runs_count=not full_dag.catchup)
        self.active: dict[UUID, DagRun] = {}
        self.opened_at: dict[UUID, datetime] = {}  # when this driver started running each run
        self.events = EventBuffer(op)
        self.retry_at: dict[tuple[UUID, str], datetime] = {}
        self.progress = Progress()
        self.outcome = Outcome()
        self.on_progress = on_progress
        self._closed_tis = 0

    def open(self, agg: DagRun) -> None:
        """Adds an acquired run (already holding its create/adopt events) to the window."""
        self.active[agg.id] = agg
        self.opened_at[agg.id] = now()
        self.history.record(agg.run)
        self.events.set_run_state(agg, "running")

    def close(self, agg: DagRun) -> bool:
        """Closes a run whose selected task instances all finished: its final state, its failures
        counted; False (and nothing changed) while any is unfinished."""
        states = {t: agg.run.tis[t].state for t in self.order if t in agg.run.tis}
        final = run_outcome(states, self.leaves)
        if final is None:
            return False
        self.events.set_run_state(agg, final)
        run_ended(self.full_dag, agg, final)
        self.outcome.failed.extend((agg.run, t) for t, s in states.items() if s in FAILED_LIKE)
        self.retire(agg)
        return True

    def retire(self, agg: DagRun) -> None:
        """Takes an ended run out of the window; its task instances stay counted as done."""
        self.active.pop(agg.id, None)
        self.opened_at.pop(agg.id, None)
        self.outcome.runs_done += 1
        self._closed_tis += sum(1 for t in self.order if t in agg.run.tis)

    def finish_runs(self) -> list[DagRun]:
        return [agg for agg in list(self.active.values()) if self.close(agg)]

    def refresh_progress(self, started: int, waiting: str | None = None) -> None:
        """`started`: the tries in flight, queued for a worker or running."""
        p = self.progress
        p.waiting = waiting
        p.runs_done = self.outcome.runs_done
        p.failed = len(self.outcome.failed)
        done = queued = 0
        for agg in self.active.values():
            states = [agg.run.tis[t].state for t in self.order if t in agg.run.tis]
            done += sum(1 for s in states if s in FINISHED)
            queued += states.count("queued")
        p.tis_done = self._closed_tis + done
        p.queued, p.running = queued, max(0, started - queued)
        if self.on_progress:
            self.on_progress(p)

    # -- what a clear of a driven run may change ---------------------------------------------

    def replace(self, uid: UUID, agg: DagRun) -> None:
        """A run reloaded with another operation's events takes the place of the one held."""
        if uid in self.active:
            self.active[uid] = agg
        if agg.pending_events:
            self.events.dirty[uid] = agg
        else:
            self.events.dirty.pop(uid, None)
        self.history.record(agg.run)

    def reopened(self, closed: RunState, agg: DagRun) -> None:
        """A run this runner had closed was cleared as it closed: it is left queued for the next driver."""
        self.outcome.runs_done -= 1
        self.outcome.failed = [(run, t) for run, t in self.outcome.failed if run is not closed]
        self.events.set_run_state(agg, "queued")
        self.outcome.blocked.append(Blocked(
            "-", agg.run, "cleared by another operation as this run finished; left queued"))

    def retry_now(self, uid: UUID, task_id: str) -> None:
        self.retry_at[(uid, task_id)] = now()

    def park(self) -> None:
        """Leaves every unfinished run queued, for the next driver."""
        for agg in self.active.values():
            self.events.set_run_state(agg, "queued")
