"""Drives runs of one DAG to completion: dependency order across runs, never a deadlock.

Each pass walks the tasks in topological order over every active run, decides
what may run, what is skipped or upstream_failed, and what waits (and why).
A pass's changes become one event per run; events are appended before any try
starts, so the log always knows what is running. When nothing runs, nothing
changed and no retry is pending, the remaining task instances are blocked: the
runner reports each with its reason, leaves their runs queued, and returns; unless
a pool is full of another DAG's tries (the scheduler drives several at once): then
it waits for theirs to end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ledgerflow.engine.authoring.dag import DAG, EmptyTask
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.dates import now
from ledgerflow.engine.domain.deps import RUN, WAIT
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.outcome import Blocked, Outcome, Progress
from ledgerflow.engine.domain.run_state import FINISHED, RunState, ti_change
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.infrastructure.task_logs import TryLog
from ledgerflow.engine.infrastructure.try_journal import TryKey
from ledgerflow.engine.runtime.branch_memory import BranchMemory, stored_run
from ledgerflow.engine.runtime.clear_watch import ClearWatch
from ledgerflow.engine.runtime.decide import Decider
from ledgerflow.engine.runtime.executors import Executor
from ledgerflow.engine.runtime.jobs import TaskJob, TaskResult, confined_log_path
from ledgerflow.engine.runtime.run_timeout import time_out_runs
from ledgerflow.engine.runtime.skips import skipped_by
from ledgerflow.engine.runtime.slots import PoolBoard, Slots
from ledgerflow.engine.runtime.try_outcome import began_change, outcome_changes
from ledgerflow.engine.runtime.window import Window
from ledgerflow.engine.runtime.worker import remember

POOL_WAIT = 0.05  # seconds between looks at a pool another DAG's tries fill


@dataclass(frozen=True)
class RunnerOptions:
    ignore_dependencies: bool = False
    mark_success: bool = False
    donot_pickle: bool = False
    pool: str | None = None
    continue_on_failures: bool = False
    disable_retry: bool = False
    dagrun_timeout: bool = False  # runs past the DAG's dagrun_timeout fail (the scheduler's runs)


class Runner(Window):
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
        runs: Iterable[RunState],
        pool_slots: dict[str, int],
        ran_before: dict[str, datetime | None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        pool_board: PoolBoard | None = None,
    ) -> None:
        """`runs`: the DAG's runs known so far, for depends_on_past; `ran_before`: the first logical
        date each depends_on_past task has an instance at (default: found in `runs`); `pool_board`: the pools'
        counts this runner shares with the other DAGs' runners of the process (default: its own)."""
        super().__init__(ledger, dag, full_dag, op, runs, on_progress)
        self.should_stop = should_stop
        self.executor = executor
        self.start_state = "queued" if executor is not None and executor.queues else "running"  # at submit
        self.options = options
        if ran_before is None:
            ran_before = self.history.first_seen(t for t, task in dag.tasks.items() if task.depends_on_past)
        self.decider = Decider(dag, full_dag, self.history, ran_before,
                               ignore_dependencies=options.ignore_dependencies)
        if any(getattr(t, "decides_skips", False) for t in dag.tasks.values()):
            self.decider.branches = BranchMemory(dag, lambda uid: stored_run(ledger, uid))
        self.slots = Slots(dag, pool_slots, executor.slots if executor is not None else None, options.pool,
                           pool_board)
        self.clears = ClearWatch(self)
        remember(full_dag)

    # -- bookkeeping ---------------------------------------------------------------

    def flush(self, *, force: bool = True) -> None:
        if self.events.due(force=force):
            self.events.store_logs(self.ledger)
            self.clears.append()
            self.events.appended()

    def hold(self, agg: DagRun) -> None:
        """An acquired run: its events so far (created, adopted, taken over) wait to be appended."""
        self.events.track(agg, len(agg.pending_events))

    def waive_past_for(self, agg: DagRun) -> None:
        """-I: this run's depends_on_past is not checked."""
        self.decider.waive_past_for = agg.id

    # -- deciding ----------------------------------------------------------------

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
        running_tasks = len(self.slots)
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
                action, reason = self.decider.verdict(agg, task_id, states)
                if action == WAIT:
                    waiting.append(Blocked(task_id, agg.run, reason))
                    continue
                if action != RUN:
                    pending.setdefault(uid, []).append(ti_change(task_id, ti, action))
                    states[task_id] = action
                    changed = True
                    continue
                if self.options.mark_success or isinstance(task, EmptyTask):
                    extra = {"mark_success": True} if self.options.mark_success else {"empty": True}
                    pending.setdefault(uid, []).append(
                        ti_change(task_id, ti, "success", try_number=ti.try_number + 1, **extra))
                    states[task_id] = "success"
                    changed = True
                    continue
                limit = self.outcome.stopped or self.slots.claim((str(uid), task_id), task, running_tasks,
                                                                 self.full_dag.max_active_tasks)
                if limit:
                    waiting.append(Blocked(task_id, agg.run, limit))
                    continue
                try_number = ti.try_number + 1
                pending.setdefault(uid, []).append(
                    ti_change(task_id, ti, self.start_state, try_number=try_number,
                              dag_fingerprint=self.full_dag.fingerprint))
                states[task_id] = self.start_state
                running_tasks += 1
                jobs.append(self._job(agg, task_id, try_number))
                changed = True
        for uid, changes in pending.items():
            self.events.change(self.active[uid], changes)
        return changed, waiting, jobs

    def _job(self, agg: DagRun, task_id: str, try_number: int) -> TaskJob:
        return TaskJob.for_try(agg.id, agg.run, self.full_dag, task_id, try_number,
                               check_fingerprint=not self.options.donot_pickle,
                               retries=0 if self.options.disable_retry else self.dag.tasks[task_id].retries,
                               stamp=self.op.stamp,
                               prev_success=self.history.previous_success(agg.run))

    # -- results -----------------------------------------------------------------

    def apply_results(self, results: Iterable[TaskResult]) -> None:
        """Tries' starts on workers and outcomes as changes, appended at the next flush (which they make due
        at once). A try that began and ended between two polls is recorded running, then ended."""
        by_run: dict[UUID, list[dict[str, Any]]] = {}
        begun: set[tuple[str, str]] = set()
        for res in results:
            uid = UUID(res.key[0])
            task_id = res.key[1]
            agg = self.active.get(uid)
            if res.state == "running":  # a worker began it: appended at once
                if agg is not None and agg.run.tis[task_id].state == "queued" and res.key not in begun:
                    by_run.setdefault(uid, []).append(began_change(task_id, agg.run.tis[task_id], res))
                    begun.add(res.key)
                    self.events.prompt()
                continue
            self.slots.release(res.key)
            if agg is None:
                continue
            ti = agg.run.tis[task_id]
            log = confined_log_path(agg.run.dag_id, agg.run.run_id, task_id, ti.try_number)
            self.events.ended(TryKey(agg.run.dag_id, res.key[0], task_id, ti.try_number),
                              TryLog(res.key[0], task_id, ti.try_number, str(log or "")))
            retries = 0 if self.options.disable_retry else self.dag.tasks[task_id].retries
            ended = outcome_changes(task_id, ti, res, retries, begun=res.key in begun)
            change = ended[-1]
            if res.state == "refused":
                self.outcome.stopped = self.outcome.stopped or res.error
            elif res.error:
                self.outcome.errors[(agg.run.run_id, task_id)] = res.error
            if change["to"] == "up_for_retry":
                wait = self.dag.tasks[task_id].retry_wait(ti.try_number, agg.run.logical_date)
                self.retry_at[(uid, task_id)] = now() + wait
            by_run.setdefault(uid, []).extend(ended)
            by_run[uid].extend(skipped_by(agg.run, task_id, res.skip))
        for uid, changes in by_run.items():
            self.events.change(self.active[uid], changes)

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
            if self.options.dagrun_timeout:
                time_out_runs(self)
            if not stop_opening and not exhausted and len(self.active) < capacity:
                fresh = acquire(capacity - len(self.active))
                exhausted = not fresh
                for agg in fresh:
                    self.open(agg)
            changed, waiting, jobs = self.one_pass()
            if jobs or self.events.outcomes:
                self.flush()  # the starts before their tries run, with the outcomes that came in
                # executor is None only with mark_success, where one_pass starts no job, takes no slot
                for job in jobs:
                    if job.key in self.slots:  # a clear that got in first drops the start
                        self.executor.submit(job)  # type: ignore[union-attr]  # see above
            closed = self.finish_runs()
            if self.outcome.failed and not self.options.continue_on_failures:
                stop_opening = True
            if self.outcome.stopped and not self.slots:  # once, cleanly: the tries in flight have ended
                self.park()
                break
            self.flush(force=False)
            self.refresh_progress(len(self.slots), self.executor.waiting if self.executor else None)
            if not self.active and (stop_opening or exhausted):
                break
            if changed or closed:
                continue
            if self.slots:
                self.apply_results(self.executor.poll(0.5))  # type: ignore[union-attr]  # slots imply an executor
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
            if self.slots.others_hold_pool and not self.should_stop():  # their tries end: wait for a slot
                self.slots.others_hold_pool = False
                time.sleep(POOL_WAIT)
                continue
            self.outcome.blocked = waiting
            self.park()
            break
        self.flush()
        return self.outcome

    def interrupt(self) -> list[str]:
        """Records the tries that already ended, then stops the rest (recorded as interrupted; a try
        that ends while it is being stopped is recorded as it ended) and parks unfinished runs."""
        stopped: list[tuple[str, str]] = []
        if self.executor is not None:
            if self.slots:
                self.apply_results(self.executor.poll(0))
                self.flush()
            stopped = self.executor.shutdown()
            self.apply_results(self.executor.poll(0))
        self.finish_runs()
        by_run: dict[UUID, list[dict[str, Any]]] = {}
        for uid, task_id in ((UUID(k[0]), k[1]) for k in stopped if UUID(k[0]) in self.active):
            by_run.setdefault(uid, []).append(ti_change(task_id, self.active[uid].run.tis[task_id], None,
                                                        interrupted=True))
        for uid, changes in by_run.items():
            self.events.change(self.active[uid], changes)
        self.park()
        self.flush()
        return [f"{k[1]}" for k in stopped]
