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
from typing import TYPE_CHECKING, Any

from ledgerflow.engine.application.access import Access, Caller
from ledgerflow.engine.application.pages import Pages
from ledgerflow.engine.authoring.dagbag import DagBag, load_dag, load_dagbag
from ledgerflow.engine.domain.conf import parse_conf
from ledgerflow.engine.domain.dates import iso, parse_date
from ledgerflow.engine.domain.outcome import Outcome, Progress, label
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.errors import DatabaseUnavailable, Interrupted, InvalidInput, Message, RefusedCommand, Term
from ledgerflow.engine.infrastructure import database, migrations, roles, settings
from ledgerflow.engine.infrastructure.connections import stoppable
from ledgerflow.engine.infrastructure.db_failures import database_problem
from ledgerflow.engine.infrastructure.gc_pause import no_cycle_collection
from ledgerflow.engine.infrastructure.locks import dag_lock
from ledgerflow.engine.infrastructure.store import Ledger

if TYPE_CHECKING:
    from ledgerflow.engine.application.backfill import BackfillResult
    from ledgerflow.engine.application.backfill_plan import BackfillPlan
    from ledgerflow.engine.application.backfill_preview import RenderedTask
    from ledgerflow.engine.application.clear import ClearPlan
    from ledgerflow.engine.application.commands import (
        BackfillRequest,
        ClearTaskInstances,
        MarkTaskInstances,
        SetPool,
        TriggerDagRun,
    )
    from ledgerflow.engine.application.mark import MarkPlan
    from ledgerflow.engine.authoring.dag import DAG
    from ledgerflow.engine.domain.dagrun import DagRun
    from ledgerflow.engine.domain.operation import OperationContext
    from ledgerflow.engine.runtime.scheduler import DagPass, Scheduler


def _operation(name: str, *, actor: str | None, reason: str | None, arguments: dict[str, Any] | None = None,
               mutating: bool = True) -> OperationContext:
    """A command's operation record (refused up front when a reason is required and missing)."""
    from ledgerflow.engine.domain.operation import new_operation

    return new_operation(name, actor=actor, reason=reason, arguments=arguments, mutating=mutating)


def version() -> str:
    return settings.version()


@dataclass(frozen=True)
class RebuildPlan:
    events: int  # in the log, to replay
    broken_chain: str | None  # where the hash chain does not verify, when rebuilding despite it


@dataclass
class ClearResult:
    plan: ClearPlan
    next_steps: list[Message] = field(default_factory=list)


class BackfillSession:
    """A planned backfill under its DAG's lock: the plan stays true until it is run."""

    def __init__(self, service: Ledgerflow, ledger: Ledger, plan: BackfillPlan, op: Any) -> None:
        self._service, self._ledger, self.plan, self._op = service, ledger, plan, op

    def run(self, *, on_progress: Callable[[Progress], None] | None = None,
            on_wait: Callable[[str], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> BackfillResult:
        """Appends the plan and drives it; the views are caught up however it ends."""
        from ledgerflow.engine.application.backfill import run_backfill

        lost: str | None = None
        try:
            return run_backfill(self._ledger, self.plan, self._op, on_progress=on_progress,
                                on_wait=on_wait, should_stop=should_stop)
        except Exception as exc:
            lost = database_problem(exc)
            if lost is None:
                raise
            raise DatabaseUnavailable(f"the backfill stopped, {lost}; run the same command to resume") from None
        finally:
            if lost is None:  # a database that failed us has nothing to catch up with
                views(self._ledger).catch_up()

    def preview(self) -> Iterator[RenderedTask]:
        """The dry run: every task of every planned date rendered as its try would see it."""
        from ledgerflow.engine.application.backfill_preview import rendered_tasks

        return rendered_tasks(self.plan)


class Ledgerflow(Pages, Access):
    """ledgerflow's use cases over one event store (LEDGERFLOW_DATABASE_URL or the embedded one)."""

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._led: Ledger | None = None

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

    @staticmethod
    def dag_bag(subdir: Path | None = None) -> DagBag:
        return load_dagbag(subdir or settings.dags_folder())

    @staticmethod
    def dag(dag_id: str, subdir: Path | None = None) -> DAG | None:
        """The DAG when its file loads; None when it cannot (its history still reads without it)."""
        try:
            return load_dag(subdir or settings.dags_folder(), dag_id)
        except InvalidInput:
            return None

    # -- runs --------------------------------------------------------------------------------

    def trigger(self, cmd: TriggerDagRun) -> DagRun:
        """A queued manual run; the scheduler runs it."""
        from ledgerflow.engine.application.trigger import trigger

        conf = parse_conf(cmd.conf)
        dag = load_dag(cmd.subdir or settings.dags_folder(), cmd.dag_id)
        moment = parse_date(cmd.logical_date, dag.timezone, what="logical_date") if cmd.logical_date else None
        op = _operation("dags trigger", actor=cmd.actor, reason=cmd.reason)
        return trigger(self._ledger(), dag, op, logical_date=moment, conf=conf, run_id=cmd.run_id)

    @contextmanager
    def backfill(self, req: BackfillRequest, *, on_wait: Callable[[int], None] = lambda tries: None
                 ) -> Iterator[BackfillSession]:
        """Plans the backfill under the DAG lock (every refusal before any event) and keeps the
        lock while the face shows the plan, asks and runs it. `on_wait(n)`: it first waits for n
        tries that a driver which died left running."""
        from ledgerflow.engine.application.backfill_plan import make_plan

        op = _operation("dags backfill", actor=req.actor, reason=req.reason, arguments=req.arguments(),
                           mutating=not req.dry_run)
        led = self._ledger()
        with dag_lock(led, req.dag_id):
            if not req.dry_run:
                self._recover(led, req.dag_id, on_wait)
            yield BackfillSession(self, led, make_plan(led, req), op)

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

        op = _operation("tasks clear", actor=cmd.actor, reason=cmd.reason, arguments=cmd.arguments(),
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

        _operation("tasks mark", actor=cmd.actor, reason=cmd.reason, arguments=cmd.arguments(),
                   mutating=not cmd.dry_run)  # refused here, before a face shows the plan
        return plan_mark(self._ledger(), cmd)

    def mark(self, plan: MarkPlan) -> MarkPlan:
        from ledgerflow.engine.application.mark import mark

        cmd = plan.command
        if cmd.dry_run:
            raise InvalidInput("a dry-run mark cannot be applied")
        op = _operation("tasks mark", actor=cmd.actor, reason=cmd.reason, arguments=cmd.arguments())
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

        op = _operation("pools set", actor=cmd.actor, reason=cmd.reason)
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

        op = _operation("scheduler", actor=actor, reason=reason,
                           arguments={"num_runs": num_runs, "subdir": str(subdir) if subdir else None})
        close_abandoned(self._ledger())
        sched = Scheduler(self._ledger(), op, folder=subdir, should_stop=should_stop)
        sched.run(num_runs, on_pass, on_broken=on_broken, sleep=sleep)
        return sched

    # -- the views and the database ----------------------------------------------------------

    def chain_problem(self) -> str | None:
        """Where and why the hash chain does not verify, in one line; None when it does."""
        report = self.verify_store()
        if report.intact:
            return None
        return f"{'' if report.position is None else f'at position {report.position}: '}{report.problem}"

    def plan_rebuild(self, *, allow_broken_chain: bool = False) -> RebuildPlan:
        """What a rebuild would replay; refused when the chain does not verify, unless allowed:
        a rebuild folds the events as they are now, so altered ones would give clean-looking views."""
        problem = self.chain_problem()
        if problem is not None and not allow_broken_chain:
            raise RefusedCommand(
                f"the hash chain does not verify {problem}; a rebuild would fold the altered events "
                f"into views that look clean (`ledgerflow audit verify` shows the break; ",
                Term("allow_broken_chain", "allowing a broken chain"), " rebuilds anyway)")
        return RebuildPlan(self.view_status()["head"], problem)

    def rebuild_views(self, plan: RebuildPlan | None = None) -> int:
        """Drops the views and replays every event into them; returns the events replayed.
        Without a plan, a chain that does not verify refuses it (see plan_rebuild)."""
        if plan is None:
            self.plan_rebuild()
        return views(self._ledger(catch_up=False)).rebuild()

    def view_status(self) -> dict[str, int]:
        return views(self._ledger(catch_up=False)).status()

    @staticmethod
    def migrate() -> list[str]:
        return migrations.migrate()

    def schema(self) -> tuple[str, list[tuple[int, str, str]], int]:
        """The server's version, the applied migrations and the latest known one."""
        led = Ledger(self._url)
        try:
            with led.cursor() as curs:
                curs.execute("SELECT version() AS v")
                row = curs.fetchone()
                assert row is not None  # SELECT version() returns one row
                server = row["v"]
            return server, migrations.applied_versions(led), migrations.latest_version()
        finally:
            led.close()

    def connection_warning(self) -> str | None:
        """Why the role connected is more than the commands need (a superuser, the events' owner)."""
        led = Ledger(self._url)
        try:
            with led.cursor() as curs:
                return roles.connection_warning(curs)
        finally:
            led.close()

    @staticmethod
    def stop_embedded() -> database.EmbeddedStop | None:
        """Stops the embedded server; None when LEDGERFLOW_DATABASE_URL names another."""
        return None if settings.database_url() else database.stop_embedded()


# What faces use besides the service: commands, plans and results, and their formatting.
__all__ = ["BackfillPlan", "BackfillSession", "Caller", "ClearPlan", "ClearResult", "Interrupted", "Ledgerflow",
           "MarkPlan", "Outcome", "Progress", "RebuildPlan", "database_problem", "iso", "label", "stoppable",
           "version"]
