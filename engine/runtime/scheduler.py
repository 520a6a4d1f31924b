"""`ledgerflow scheduler`: creates scheduled runs and drives every queued run of every DAG.

Each loop walks the DAG folder and drives several DAGs at once, one thread each. For
each top-level DAG it takes the same per-DAG advisory lock as a backfill (a DAG a
backfill is driving is skipped this loop), drives its backfill object if it has one
(paused DAG or not, within the backfill's max_active_runs), then, unless the DAG is
paused, creates the scheduled runs that are due and drives every queued run whatever
its run_type (DESIGN difference 7: a cleared backfill run is re-run too) that no
unfinished backfill holds, plus runs a vanished process left running, with the same
Runner and executors as the backfill, at most max_active_runs at a time. A paused
DAG gets no new run, but the runs a dead driver (a foreground backfill killed with
kill -9) left running are taken over and finished all the same: under the DAG's lock
no live driver has them, and no run stays running without one. Sub-DAGs are driven
by their parent's task.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from uuid import UUID

from ledgerflow.engine.application.backfill_drive import drive_backfill
from ledgerflow.engine.application.pause import first_sightings
from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.authoring.dagbag import DagBag, load_dagbag
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.dates import from_iso, now
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.domain.run_state import RunState
from ledgerflow.engine.domain.scheduling import due_dates, free_pool_slots, new_run, take_over
from ledgerflow.engine.errors import Interrupted, RefusedCommand
from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.infrastructure.locks import dag_lock
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.runtime.executors import Executor, make_executor
from ledgerflow.engine.runtime.pick_next import pick_next
from ledgerflow.engine.runtime.recovery import recover
from ledgerflow.engine.runtime.runner import Runner, RunnerOptions
from ledgerflow.engine.runtime.slots import PoolBoard

IDLE_SECONDS = 1.0
DAGS_AT_ONCE = 4  # DAGs driven at the same time, each with a share of the task slots


@dataclass
class DagPass:
    """What one loop did for one DAG."""

    dag_id: str
    created: int = 0
    finished: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    skipped: str | None = None
    interrupted: list[str] = field(default_factory=list)
    paused: bool = False
    backfill: int | None = None  # the backfill object it drove
    backfill_runs: int = 0  # runs of it that finished in this pass

    @property
    def busy(self) -> bool:
        return bool(self.created or self.finished or self.backfill_runs)


class Scheduler:
    def __init__(self, ledger: Ledger, op: OperationContext, *, folder: Path | None = None,
                 should_stop: Callable[[], bool] = lambda: False) -> None:
        self.ledger = ledger
        self.op = op
        self.folder = folder or settings.dags_folder()
        self.should_stop = should_stop
        self.loops = 0
        self.stopped = False
        self._executors: dict[str, Executor] = {}
        self._pool = ThreadPoolExecutor(max_workers=DAGS_AT_ONCE, thread_name_prefix="ledgerflow-dag")
        self._inflight: dict[str, Future[DagPass]] = {}
        self._slots = settings.parallelism()
        self._pools = PoolBoard()  # a pool's slots hold across the DAGs driven at once
        self._driving: set[str] = set()  # the DAGs whose pass is going on (their tries are on the board)
        self._driving_lock = threading.Lock()

    def run(self, num_runs: int | None, on_pass: Callable[[DagPass], None],
            on_broken: Callable[[str, str], None] = lambda path, error: None,
            sleep: Callable[[float], object] = lambda s: None) -> None:
        """Loops until num_runs loops are done (None: until stopped).

        Each loop ends once every DAG's pass ended when loops are counted; until stopped, a DAG
        whose pass goes on (a long backfill) is left to it, and the loop goes on with the others.
        """
        self.ledger.append(self.op.started())  # before the DAGs' passes, which all carry its stamp
        try:
            while (num_runs is None or self.loops < num_runs) and not self.should_stop():
                passes = self.loop_once(on_broken, wait=num_runs is not None)
                self.loops += 1
                for done in passes:
                    on_pass(done)
                if self.stopped:
                    break
                more = num_runs is None or self.loops < num_runs
                if more and not any(p.busy for p in passes):
                    sleep(IDLE_SECONDS)
        finally:
            self._pool.shutdown(wait=True)  # the passes still going see the stop request and park their runs
            for executor in self._executors.values():
                executor.shutdown()
            self.stopped = self.stopped or self.should_stop()
            self.op.ended("stopped" if self.stopped else "success", loops=self.loops)
            self.ledger.append(*self.op.pending())
            views(self.ledger).catch_up()

    def loop_once(self, on_broken: Callable[[str, str], None] = lambda p, e: None, *,
                  wait: bool = True) -> list[DagPass]:
        """Starts a pass for every DAG without one going on (several DAGs at once, each in its own
        thread under its own lock), then returns the passes that ended: all of them when `wait`."""
        bag = load_dagbag(self.folder)
        for path, error in bag.errors.items():
            on_broken(path, error)
        top = [dag for _, dag in sorted(bag.dags.items()) if dag.parent is None]
        flags = self._pause_flags(top)
        views(self.ledger).catch_up()
        self._slots = max(1, settings.parallelism() // min(len(top) or 1, DAGS_AT_ONCE))
        busy = pick_next(self.ledger, [d for d in top if d.dag_id not in self._inflight], flags, now())
        passes = []
        for dag in top:
            if self.should_stop() or self.stopped:
                break
            if dag.dag_id in busy:
                self._inflight[dag.dag_id] = self._pool.submit(self.schedule, dag, bag, paused=flags[dag.dag_id])
            elif dag.dag_id not in self._inflight:
                passes.append(DagPass(dag.dag_id, paused=flags[dag.dag_id]))  # nothing to do: no pass
        futures.wait(list(self._inflight.values()), timeout=None if wait else IDLE_SECONDS,
                     return_when=futures.ALL_COMPLETED if wait else futures.FIRST_COMPLETED)
        for dag_id, pending in sorted(self._inflight.items()):
            if pending.done():
                del self._inflight[dag_id]
                passes.append(pending.result())
        views(self.ledger).catch_up()
        return sorted(passes, key=lambda p: p.dag_id)

    def _pause_flags(self, dags: list[DAG]) -> dict[str, bool]:
        """Each DAG's paused flag; a DAG seen for the first time gets the one its is_paused_upon_creation asks for."""
        known = views(self.ledger).pause_flags()
        sighted = first_sightings(dags, known, self.op)
        if sighted:
            self.ledger.append(*self.op.pending(), *sighted)
        return {**{s.dag_id: s.is_paused for s in sighted}, **known}

    def schedule(self, dag: DAG, bag: DagBag, *, paused: bool = False) -> DagPass:
        """One DAG's pass: its backfill object, paused or not, then its scheduled and queued runs (paused:
        only the runs a dead driver left running)."""
        done = DagPass(dag.dag_id, paused=paused)
        try:
            with dag_lock(self.ledger, dag.dag_id):
                with self._driving_lock:
                    self._driving.add(dag.dag_id)
                try:
                    self._drive_backfill(dag, bag, done)
                    if not self.stopped:
                        self._drive(dag, bag, done, orphans_only=paused)
                finally:
                    with self._driving_lock:
                        self._driving.discard(dag.dag_id)
        except RefusedCommand:
            done.skipped = "a backfill is driving it"
        return done

    def _free_pools(self, bag: DagBag, dag_id: str) -> dict[str, int]:
        """The pools' slots less those other drivers' tries hold; this scheduler's own are on its board."""
        with self._driving_lock:
            counted = set(self._driving)
        return free_pool_slots(self.ledger, bag, dag_id, views(self.ledger).pools(), counted)

    def _executor_for(self, dag_id: str) -> Executor:
        """Each DAG's passes have their own executor (results come back to the pass that asked)."""
        if dag_id not in self._executors:
            self._executors[dag_id] = make_executor(None, self._slots)
        return self._executors[dag_id]

    def _drive_backfill(self, dag: DAG, bag: DagBag, done: DagPass) -> None:
        try:
            driven = drive_backfill(self.ledger, dag, self.op, self._executor_for(dag.dag_id),
                                    self._free_pools(bag, dag.dag_id), self.should_stop, self._pools)
        except Interrupted:
            self.stopped = True
            return
        if driven is not None:
            done.backfill, outcome = driven
            done.backfill_runs = outcome.runs_done
            done.failed += sorted({run.run_id for run, _ in outcome.failed})
            done.blocked += [b.describe() for b in outcome.blocked]

    def _drive(self, dag: DAG, bag: DagBag, done: DagPass, *, orphans_only: bool = False) -> None:
        read = views(self.ledger)
        if recover(self.ledger, dag.dag_id):
            read.catch_up()
        if orphans_only and not read.run_versions(dag.dag_id, state="running"):
            return  # paused, and no run left running: nothing to load
        held = read.backfill_held_runs(dag.dag_id)  # a paused or scheduler-driven backfill's runs are its own
        runs = read.runs(dag.dag_id)
        history = {from_iso(run.logical_date): run for _, run in runs.values()}
        # a due date without a run, or a queued or running run (uuid, version, state) to take over
        waiting: list[tuple[datetime, tuple[UUID, int, RunState] | None]] = [
            (from_iso(run.logical_date), (uid, version, run))
            for uid, (version, run) in runs.items()
            if run.state in (("running",) if orphans_only else ("queued", "running")) and run.run_id not in held
        ]
        if not orphans_only:
            waiting += [(d, None) for d in due_dates(dag, set(history), now())]
        waiting.sort(key=lambda item: item[0])
        if not waiting:
            return
        runner = Runner(self.ledger, dag, dag, self.op, self._executor_for(dag.dag_id),
                        RunnerOptions(continue_on_failures=True, dagrun_timeout=True), runs=history.values(),
                        pool_slots=self._free_pools(bag, dag.dag_id), should_stop=self.should_stop,
                        pool_board=self._pools)

        driven: list[datetime] = []

        def acquire(n: int) -> list[DagRun]:
            fresh: list[DagRun] = []
            while waiting and len(fresh) < n:
                moment, found = waiting.pop(0)
                if found is None:
                    agg = new_run(dag, moment, "scheduled", "queued", {}, self.op)
                    done.created += 1
                else:
                    uid, version, run = found
                    agg = take_over(DagRun.resume(uid, version, run), dag, self.op, self.ledger)
                runner.hold(agg)
                driven.append(moment)
                fresh.append(agg)
            return fresh

        try:
            outcome = runner.drive(acquire, max(1, dag.max_active_runs))
        except KeyboardInterrupt:
            done.interrupted = runner.interrupt()
            self.stopped = True
            return
        ends = {d: runner.history.at(d) for d in driven}
        done.finished = [run.run_id for run in ends.values() if run.state == "success"]
        done.failed = [run.run_id for run in ends.values() if run.state == "failed"]
        done.blocked = [b.describe() for b in outcome.blocked]
