"""Drives runs of one DAG to completion: dependency order across runs, never a deadlock.

Each pass walks the tasks in topological order over every active run, decides
what may run, what is skipped or upstream_failed, and what waits (and why).
A pass's changes become one event per run; events are appended before any try
starts, so the log always knows what is running. When nothing runs, nothing
changed and no retry is pending, the remaining task instances are blocked: the
runner reports each with its reason, leaves their runs queued, and returns.
"""

from __future__ import annotations

import time
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ledgerflow.engine.authoring.dag import DAG, EmptyTask
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.dates import from_iso, now
from ledgerflow.engine.domain.deps import RUN, WAIT, past_verdict, run_outcome, trigger_rule_verdict
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.outcome import Blocked, Outcome, Progress, label
from ledgerflow.engine.domain.run_state import FAILED_LIKE, FINISHED, RunState
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.runtime.clear_watch import ClearWatch
from ledgerflow.engine.runtime.executors import Executor
from ledgerflow.engine.runtime.jobs import TaskJob, TaskResult
from ledgerflow.engine.runtime.worker import remember

FLUSH_EVENTS = 5_000
FLUSH_SECONDS = 1.0


@dataclass(frozen=True)
class RunnerOptions:
    ignore_dependencies: bool = False
    mark_success: bool = False
    donot_pickle: bool = False
    pool: str | None = None
    continue_on_failures: bool = False


class Runner:
    """Drives a window of runs (at most max_active_runs) over a list of logical dates."""

    def __init__(
        self,
        ledger: Ledger,
        dag: DAG,
        full_dag: DAG,
        op: OperationContext,
        executor: Executor | None,
        options: RunnerOptions,
        *,
        history: dict[datetime, RunState],
        ran_before: dict[str, datetime | None],
        pool_slots: dict[str, int],
        waive_past_for: UUID | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.ledger = ledger
        self.should_stop = should_stop
        self.dag = dag
        self.full_dag = full_dag
        self.op = op
        self.executor = executor
        self.options = options
        self.order = dag.topological_order()
        self.leaves = dag.leaves()
        self.history = history
        self.history_dates = sorted(history)
        self.ran_before = ran_before
        self.pool_slots = pool_slots
        self.pool_busy: dict[str, int] = {}
        self.waive_past_for = waive_past_for
        self.on_progress = on_progress
        self.active: dict[UUID, DagRun] = {}
        self.dirty: dict[UUID, Any] = {}
        self.in_flight: dict[tuple[str, str], str] = {}
        self.retry_at: dict[tuple[UUID, str], datetime] = {}
        self.progress = Progress()
        self.outcome = Outcome()
        self._pending_events = 0
        self._last_flush = time.monotonic()
        self._closed_tis = 0
        self.clears = ClearWatch(self)
        remember(full_dag)

    # -- bookkeeping ---------------------------------------------------------------

    def track(self, agg: Any, new_events: int = 1) -> None:
        """Marks an aggregate as having events to append."""
        self.dirty[agg.id] = agg
        self._pending_events += new_events

    def flush(self, *, force: bool = True) -> None:
        if not self.dirty and not self.op.pending():
            return
        if not force and self._pending_events < FLUSH_EVENTS and (
            time.monotonic() - self._last_flush < FLUSH_SECONDS
        ):
            return
        self.clears.append()
        self.dirty.clear()
        self._pending_events = 0
        self._last_flush = time.monotonic()

    def change(self, agg: DagRun, changes: list[dict[str, Any]]) -> None:
        if changes:
            agg.trigger_event(DagRun.TaskInstancesChanged, **self.op.stamp, changes=changes)
            self.track(agg)

    def set_run_state(self, agg: DagRun, state: str) -> None:
        if agg.run.state != state:
            agg.trigger_event(DagRun.StateChanged, **self.op.stamp,
                              from_state=agg.run.state, to_state=state)
            self.track(agg)

    # -- the window --------------------------------------------------------------

    def open(self, agg: DagRun) -> None:
        """Adds an acquired run (already holding its create/adopt events) to the window."""
        self.active[agg.id] = agg
        moment = from_iso(agg.run.logical_date)
        if moment not in self.history:
            insort(self.history_dates, moment)
        self.history[moment] = agg.run
        self.set_run_state(agg, "running")

    def previous_run(self, run: RunState) -> RunState | None:
        moment = from_iso(run.logical_date)
        idx = bisect_left(self.history_dates, moment) - 1
        while idx >= 0:
            candidate = self.history[self.history_dates[idx]]
            if not (self.full_dag.catchup and candidate.run_type == "manual"):
                return candidate
            idx -= 1
        return None

    # -- deciding ----------------------------------------------------------------

    def _verdict(self, agg: DagRun, task_id: str, states: dict[str, str | None]) -> tuple[str, str]:
        if self.options.ignore_dependencies:
            return RUN, ""
        task = self.dag.tasks[task_id]
        upstream = {u: states.get(u) for u in task.upstream_task_ids}
        verdict = trigger_rule_verdict(task.trigger_rule, upstream)
        if verdict.action != RUN or not task.depends_on_past or agg.id == self.waive_past_for:
            return verdict.action, verdict.reason
        prev = self.previous_run(agg.run)
        moment = from_iso(agg.run.logical_date)
        first = self.ran_before.get(task_id)
        ran_before = first is not None and first < moment
        past = past_verdict(
            task_id,
            self.full_dag.tasks[task_id].downstream_task_ids,
            task.wait_for_downstream,
            None if prev is None else {t: ti.state for t, ti in prev.tis.items()},
            "" if prev is None else label(prev.logical_date),
            ran_before,
        )
        return past.action, past.reason

    def _limit_reason(self, task_id: str, running_tasks: int) -> str | None:
        task = self.dag.tasks[task_id]
        pool = self.options.pool or task.pool or "default_pool"
        if running_tasks >= self.full_dag.max_active_tasks:
            return f"max_active_tasks ({self.full_dag.max_active_tasks}) reached"
        if self.executor is not None and len(self.in_flight) >= self.executor.slots:
            return "all executor slots busy"
        if self.pool_busy.get(pool, 0) + task.pool_slots > self.pool_slots.get(pool, 0):
            return f"pool {pool} has no free slot ({self.pool_slots.get(pool, 0)} slots)"
        return None

    def one_pass(self) -> tuple[bool, list[Blocked], list[TaskJob]]:
        """Decides every active task instance once; returns (changed, waiting, jobs to start)."""
        changed = False
        waiting: list[Blocked] = []
        jobs: list[TaskJob] = []
        now_ = now()
        pending: dict[UUID, list[dict[str, Any]]] = {}
        views: dict[UUID, dict[str, str | None]] = {
            uid: {t: ti.state for t, ti in agg.run.tis.items()} for uid, agg in self.active.items()
        }
        running_tasks = len(self.in_flight)
        for task_id in self.order:
            task = self.dag.tasks[task_id]
            for uid, agg in self.active.items():
                ti = agg.run.tis.get(task_id)
                states = views[uid]
                state = states.get(task_id)
                if ti is None or state in FINISHED or state in ("running", "queued"):
                    continue
                if state == "up_for_retry":
                    due = self.retry_at.get((uid, task_id))
                    if due is not None and due > now_:
                        continue
                action, reason = self._verdict(agg, task_id, states)
                if action == WAIT:
                    waiting.append(Blocked(task_id, agg.run, reason))
                    continue
                if action != RUN:
                    pending.setdefault(uid, []).append(self._ti_change(ti, task_id, action, ti.try_number))
                    states[task_id] = action
                    changed = True
                    continue
                if self.options.mark_success or isinstance(task, EmptyTask):
                    extra = {"mark_success": True} if self.options.mark_success else {"empty": True}
                    pending.setdefault(uid, []).append(
                        self._ti_change(ti, task_id, "success", ti.try_number + 1, **extra)
                    )
                    states[task_id] = "success"
                    changed = True
                    continue
                limit = self._limit_reason(task_id, running_tasks)
                if limit:
                    waiting.append(Blocked(task_id, agg.run, limit))
                    continue
                try_number = ti.try_number + 1
                pending.setdefault(uid, []).append(
                    self._ti_change(ti, task_id, "running", try_number,
                                    dag_fingerprint=self.full_dag.fingerprint)
                )
                states[task_id] = "running"
                running_tasks += 1
                pool = self.options.pool or task.pool or "default_pool"
                self.pool_busy[pool] = self.pool_busy.get(pool, 0) + task.pool_slots
                self.in_flight[(str(uid), task_id)] = pool
                jobs.append(self._job(agg, task_id, try_number))
                changed = True
        for uid, changes in pending.items():
            self.change(self.active[uid], changes)
        return changed, waiting, jobs

    @staticmethod
    def _ti_change(ti: Any, task_id: str, to: str | None, try_number: int, **extra: Any) -> dict[str, Any]:
        return {"task_id": task_id, "from": ti.state, "to": to, "try_number": try_number,
                "max_tries": ti.max_tries, **extra}

    def _job(self, agg: DagRun, task_id: str, try_number: int) -> TaskJob:
        return TaskJob.for_try(agg.id, agg.run, self.full_dag, task_id, try_number,
                               check_fingerprint=not self.options.donot_pickle)

    # -- results -----------------------------------------------------------------

    def apply_results(self, results: Iterable[TaskResult]) -> None:
        by_run: dict[UUID, list[dict[str, Any]]] = {}
        for res in results:
            pool = self.in_flight.pop(res.key, None)
            uid = UUID(res.key[0])
            task_id = res.key[1]
            if pool is not None:
                self.pool_busy[pool] -= self.dag.tasks[task_id].pool_slots
            agg = self.active.get(uid)
            if agg is None:
                continue
            ti = agg.run.tis[task_id]
            extra = {"log_sha256": res.log_sha256, "dag_fingerprint": res.fingerprint}
            if res.error:
                extra["error"] = res.error[:2000]
                self.outcome.errors[(agg.run.run_id, task_id)] = res.error
            to = res.state
            if to == "failed" and self.dag.tasks[task_id].retries > 0 and ti.try_number <= ti.max_tries:
                to = "up_for_retry"
                self.retry_at[(uid, task_id)] = now() + self.dag.tasks[task_id].retry_delay
            by_run.setdefault(uid, []).append(self._ti_change(ti, task_id, to, ti.try_number, **extra))
        for uid, changes in by_run.items():
            self.change(self.active[uid], changes)

    def finish_runs(self) -> list[DagRun]:
        """Closes runs whose selected task instances all finished."""
        closed = []
        for uid, agg in list(self.active.items()):
            states = {t: agg.run.tis[t].state for t in self.order if t in agg.run.tis}
            final = run_outcome(states, self.leaves)
            if final is None:
                continue
            self.set_run_state(agg, final)
            for t, s in states.items():
                if s in FAILED_LIKE:
                    self.outcome.failed.append((agg.run, t))
            del self.active[uid]
            self.outcome.runs_done += 1
            self.count_closed(agg)
            closed.append(agg)
        return closed

    def count_closed(self, agg: DagRun) -> None:
        self._closed_tis += sum(1 for t in self.order if t in agg.run.tis)

    def _refresh_progress(self) -> None:
        p = self.progress
        p.runs_done = self.outcome.runs_done
        p.running = len(self.in_flight)
        p.failed = len(self.outcome.failed)
        done = 0
        for agg in self.active.values():
            done += sum(1 for t in self.order if t in agg.run.tis and agg.run.tis[t].state in FINISHED)
        p.tis_done = self._closed_tis + done
        if self.on_progress:
            self.on_progress(p)

    # -- main loop ---------------------------------------------------------------

    def drive(self, acquire: Callable[[int], list[DagRun]], capacity: int) -> Outcome:
        """Runs until every acquired run finished or the rest is blocked.

        `acquire(n)` returns up to n more runs (already carrying their create or
        adopt events); it returns [] once no date is left.
        """
        stop_opening = False
        exhausted = False
        while True:
            if self.should_stop():
                raise KeyboardInterrupt  # only here: never in the middle of an append
            self.clears.poll()
            if not stop_opening and not exhausted and len(self.active) < capacity:
                fresh = acquire(capacity - len(self.active))
                exhausted = not fresh
                for agg in fresh:
                    self.open(agg)
            changed, waiting, jobs = self.one_pass()
            if jobs:
                self.flush()
                for job in jobs:
                    if job.key in self.in_flight:  # a clear that got in first drops the start
                        self.executor.submit(job)  # type: ignore[union-attr]
            closed = self.finish_runs()
            if self.outcome.failed and not self.options.continue_on_failures:
                stop_opening = True
            self.flush(force=False)
            self._refresh_progress()
            if not self.active and (stop_opening or exhausted):
                break
            if changed or closed:
                continue
            if self.in_flight:
                self.apply_results(self.executor.poll(0.5))  # type: ignore[union-attr]
                continue
            if self.retry_at:
                due = min(
                    (d for (uid, t), d in self.retry_at.items()
                     if uid in self.active and self.active[uid].run.tis[t].state == "up_for_retry"),
                    default=None,
                )
                if due is not None:
                    time.sleep(max(0.0, min((due - now()).total_seconds(), 1.0)))
                    continue
            if not self.active and not exhausted:
                continue
            self.outcome.blocked = waiting
            for agg in self.active.values():
                self.set_run_state(agg, "queued")
            break
        self.flush()
        return self.outcome

    def interrupt(self) -> list[str]:
        """Stops running tries, records them as interrupted, parks unfinished runs as queued."""
        if self.executor is not None and self.in_flight:
            self.apply_results(self.executor.poll(0))  # tries that already ended are recorded, not re-run
            self.finish_runs()
        stopped = self.executor.shutdown() if self.executor else []
        by_run: dict[UUID, list[dict[str, Any]]] = {}
        for key in stopped:
            uid, task_id = UUID(key[0]), key[1]
            agg = self.active.get(uid)
            if agg is not None:
                ti = agg.run.tis[task_id]
                by_run.setdefault(uid, []).append(
                    self._ti_change(ti, task_id, None, ti.try_number, interrupted=True)
                )
        for uid, changes in by_run.items():
            self.change(self.active[uid], changes)
        for agg in self.active.values():
            self.set_run_state(agg, "queued")
        self.flush()
        return [f"{k[1]}" for k in stopped]
