"""The application service: one method per use case, shared by every face.

It owns the ledger's lifetime, the DAG lock, the views' catch-ups and each
command's operation record, so a face (the CLI, an HTTP API) only turns its
input into a command, calls one method and renders what comes back. Writes are
here; reads, current or as of an instant, are in `reads.Reads`. What only some
commands need (the runtime that runs tries, template rendering) is imported by
the method that needs it, so a read command starts without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ledgerflow.engine.application.access import Access, Caller
from ledgerflow.engine.application.backfill_use_cases import BackfillUseCases
from ledgerflow.engine.application.distributed import Distributed
from ledgerflow.engine.application.maintenance import Maintenance, RebuildPlan
from ledgerflow.engine.application.pages import Pages
from ledgerflow.engine.application.reads import dag_file
from ledgerflow.engine.domain.conf import parse_conf
from ledgerflow.engine.domain.dates import iso, parse_date
from ledgerflow.engine.domain.operation import new_operation
from ledgerflow.engine.domain.outcome import Outcome, Progress, label
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.errors import Interrupted, InvalidInput, Message, Term
from ledgerflow.engine.infrastructure import migrations, settings
from ledgerflow.engine.infrastructure.connections import stoppable
from ledgerflow.engine.infrastructure.db_failures import database_problem
from ledgerflow.engine.infrastructure.gc_pause import no_cycle_collection
from ledgerflow.engine.infrastructure.locks import dag_lock
from ledgerflow.engine.infrastructure.store import Ledger

if TYPE_CHECKING:
    from ledgerflow.engine.application.backfill_plan import BackfillPlan
    from ledgerflow.engine.application.backfill_session import BackfillSession
    from ledgerflow.engine.application.clear import ClearPlan
    from ledgerflow.engine.application.commands import (
        BackfillRequest,
        ClearTaskInstances,
        MarkTaskInstances,
        SetPool,
        TriggerDagRun,
    )
    from ledgerflow.engine.application.dag_cache import DagFileCache
    from ledgerflow.engine.application.mark import MarkPlan
    from ledgerflow.engine.authoring.dag import DAG
    from ledgerflow.engine.authoring.dagbag import DagBag
    from ledgerflow.engine.domain.dagrun import DagRun
    from ledgerflow.engine.runtime.scheduler import DagPass, Scheduler


def version() -> str:
    return settings.version()


@dataclass
class ClearResult:
    plan: ClearPlan
    next_steps: list[Message] = field(default_factory=list)


class Ledgerflow(Pages, Access, BackfillUseCases, Maintenance, Distributed):
    """ledgerflow's use cases over one event store (LEDGERFLOW_DATABASE_URL or the embedded one)."""

    def __init__(self, url: str | None = None, *, keep_dag_files: bool = False) -> None:
        """`keep_dag_files`: a long-lived process (the HTTP API) keeps loaded DAG files until one changes."""
        self._url = url
        self._led: Ledger | None = None
        self._dag_files: DagFileCache | None = None
        if keep_dag_files:
            from ledgerflow.engine.application.dag_cache import DagFileCache

            self._dag_files = DagFileCache()

    def __enter__(self) -> Ledgerflow:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._led is not None:
            self._led.close()
            self._led = None

    def _ledger(self, *, catch_up: bool = True) -> Ledger:
        """The migrated ledger; reads catch the views up first (read-your-writes)."""
        if self._led is None:
            settings.home()  # refused before anything is written: tries keep their logs there
            self._led = migrations.open_ledger(self._url)
        if catch_up:
            views(self._led).catch_up()
        return self._led

    # -- DAG files ---------------------------------------------------------------------------

    def dag_bag(self, subdir: Path | None = None) -> DagBag:
        from ledgerflow.engine.authoring.dagbag import load_dagbag

        folder = subdir or settings.dags_folder()
        return self._dag_files.bag(folder) if self._dag_files is not None else load_dagbag(folder)

    def dag(self, dag_id: str, subdir: Path | None = None) -> DAG | None:
        """The DAG when its file loads; None when it cannot (its history still reads without it)."""
        try:
            if self._dag_files is not None:
                return self.dag_bag(subdir).get(dag_id)
            return dag_file(dag_id, subdir)
        except InvalidInput:
            return None

    # -- runs --------------------------------------------------------------------------------

    def trigger(self, cmd: TriggerDagRun) -> DagRun:
        """A queued manual run; the scheduler runs it."""
        from ledgerflow.engine.application.trigger import trigger

        conf = parse_conf(cmd.conf)
        dag = dag_file(cmd.dag_id, cmd.subdir)
        moment = parse_date(cmd.logical_date, dag.timezone, what="logical_date") if cmd.logical_date else None
        op = new_operation("dags trigger", actor=cmd.actor, reason=cmd.reason)
        return trigger(self._ledger(), dag, op, logical_date=moment, conf=conf, run_id=cmd.run_id)

    @contextmanager
    def backfill(self, req: BackfillRequest, *, on_wait: Callable[[int], None] = lambda tries: None
                 ) -> Iterator[BackfillSession]:
        """Plans the backfill under the DAG lock (every refusal before any event) and keeps the
        lock while the face shows the plan, asks and runs it. `on_wait(n)`: it first waits for n
        tries that a driver which died left running."""
        from ledgerflow.engine.application.backfill_object import refuse_second, resumable
        from ledgerflow.engine.application.backfill_plan import make_plan
        from ledgerflow.engine.application.backfill_session import BackfillSession

        op = new_operation("dags backfill", actor=req.actor, reason=req.reason, arguments=req.arguments(),
                           mutating=not req.dry_run)
        led = self._ledger()
        with dag_lock(led, req.dag_id):
            if not req.dry_run:
                self._recover(led, req.dag_id, on_wait)
            plan = make_plan(led, req)
            resumes = None
            if plan.dates:
                refuse_second(led, req.dag_id)
                resumes = resumable(led, req.dag_id, iso(plan.start), iso(plan.end))
            yield BackfillSession(led, plan, op, resumes)

    @staticmethod
    def _recover(led: Ledger, dag_id: str, on_wait: Callable[[int], None]) -> None:
        """What a driver of the DAG that died left (its tries' outcomes, its open operation) is
        recorded before anything is planned on the runs' states."""
        from ledgerflow.engine.application.abandoned import close_abandoned
        from ledgerflow.engine.runtime.recovery import recover

        close_abandoned(led)
        if recover(led, dag_id, on_wait):
            views(led).catch_up()

    def plan_clear(self, cmd: ClearTaskInstances) -> ClearPlan:
        """What the clear would change, from the caught-up views; writes nothing."""
        from ledgerflow.engine.application.clear import plan_clear

        op = new_operation("tasks clear", actor=cmd.actor, reason=cmd.reason, arguments=cmd.arguments(),
                           mutating=not cmd.dry_run)
        with no_cycle_collection():  # ~10 objects per task instance, no cycles
            plan = plan_clear(self._ledger(), cmd)
        plan.operation = op
        return plan

    def clear(self, plan: ClearPlan) -> ClearResult:
        """Appends a planned clear as one operation (re-planned if the runs changed meanwhile)."""
        from ledgerflow.engine.application.clear import clear_task_instances
        from ledgerflow.engine.application.clear_handoff import handoff

        if plan.command.dry_run or plan.operation is None:
            raise InvalidInput("a dry-run clear plan cannot be applied")
        led = self._ledger(catch_up=False)
        with no_cycle_collection():
            done = clear_task_instances(led, plan, plan.operation)
            views(led).catch_up()
        return ClearResult(done, handoff(led, done))

    # -- marks -------------------------------------------------------------------------------

    def plan_mark(self, cmd: MarkTaskInstances) -> MarkPlan:
        """The task instances a mark success/failed would change; writes nothing."""
        from ledgerflow.engine.application.mark import plan_mark

        new_operation("tasks mark", actor=cmd.actor, reason=cmd.reason, arguments=cmd.arguments(),
                   mutating=not cmd.dry_run)  # refused here, before a face shows the plan
        return plan_mark(self._ledger(), cmd)

    def mark(self, plan: MarkPlan) -> MarkPlan:
        from ledgerflow.engine.application.mark import mark

        cmd = plan.command
        if cmd.dry_run:
            raise InvalidInput("a dry-run mark cannot be applied")
        op = new_operation("tasks mark", actor=cmd.actor, reason=cmd.reason, arguments=cmd.arguments())
        done = mark(self._ledger(catch_up=False), plan, op)
        views(self._ledger(catch_up=False)).catch_up()
        return done

    # -- pools -------------------------------------------------------------------------------

    def pool_slots(self, cmd: SetPool) -> int | None:
        """The pool's slots before the change (None: it is new), for the face to confirm a change;
        a change that would be refused is refused here, before the face asks."""
        from ledgerflow.engine.application.pool_commands import check_pool

        check_pool(cmd.name, cmd.slots)
        return self.pools().get(cmd.name)

    def set_pool(self, cmd: SetPool) -> None:
        from ledgerflow.engine.application.pool_commands import set_pool

        op = new_operation("pools set", actor=cmd.actor, reason=cmd.reason)
        set_pool(self._ledger(), op, cmd.name, cmd.slots)

    @staticmethod
    def check_reset_dag_runs(reset: bool) -> None:
        """A clear always queues its runs again (the scheduler re-runs every queued run): it cannot leave them."""
        if not reset:
            raise InvalidInput(Term("reset_dag_runs"), " false is not supported: a clear always sets its runs back "
                               "to queued, so the scheduler runs the cleared task instances again")

    def create_pool(self, cmd: SetPool) -> None:
        """A new pool (AlreadyExists: one of that name exists, default_pool included)."""
        from ledgerflow.engine.errors import AlreadyExists

        if self.pool_slots(cmd) is not None:
            raise AlreadyExists(f"pool {cmd.name!r} exists already")
        self.set_pool(cmd)

    # -- the scheduler -----------------------------------------------------------------------

    def scheduler(self, *, num_runs: int | None, subdir: Path | None, reason: str | None,
                  actor: str | None, on_pass: Callable[[DagPass], None],
                  on_broken: Callable[[str, str], None], should_stop: Callable[[], bool],
                  sleep: Callable[[float], object]) -> Scheduler:
        """Creates due scheduled runs and drives every queued run, loop after loop."""
        from ledgerflow.engine.runtime.scheduler import Scheduler

        if num_runs is not None and num_runs < 1:
            raise InvalidInput(Term("num_runs", "the number of loops"), " must be >= 1")
        from ledgerflow.engine.application.abandoned import close_abandoned

        op = new_operation("scheduler", actor=actor, reason=reason,
                           arguments={"num_runs": num_runs, "subdir": str(subdir) if subdir else None})
        close_abandoned(self._ledger())
        sched = Scheduler(self._ledger(), op, folder=subdir, should_stop=should_stop)
        sched.run(num_runs, on_pass, on_broken=on_broken, sleep=sleep)
        return sched


# What faces use besides the service: commands, plans and results, and their formatting.
__all__ = ["BackfillPlan", "BackfillSession", "Caller", "ClearPlan", "ClearResult", "Interrupted", "Ledgerflow",
           "MarkPlan", "Outcome", "Progress", "RebuildPlan", "database_problem", "iso", "label", "stoppable",
           "version"]
