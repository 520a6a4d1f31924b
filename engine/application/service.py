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

from ledgerflow.engine.application.backfill_use_cases import BackfillUseCases
from ledgerflow.engine.application.reads import Reads
from ledgerflow.engine.authoring.dagbag import DagBag, load_dag, load_dagbag
from ledgerflow.engine.domain.conf import parse_conf
from ledgerflow.engine.domain.dates import iso, parse_date
from ledgerflow.engine.domain.outcome import Outcome, Progress, label
from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.errors import Interrupted, InvalidInput, Message, Term
from ledgerflow.engine.infrastructure import database, migrations, settings
from ledgerflow.engine.infrastructure.gc_pause import no_cycle_collection
from ledgerflow.engine.infrastructure.locks import dag_lock
from ledgerflow.engine.infrastructure.store import Ledger

if TYPE_CHECKING:
    from ledgerflow.engine.application.backfill_plan import BackfillPlan
    from ledgerflow.engine.application.backfill_session import BackfillSession
    from ledgerflow.engine.application.clear import ClearPlan
    from ledgerflow.engine.application.commands import BackfillRequest, ClearTaskInstances, SetPool, TriggerDagRun
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


@dataclass
class ClearResult:
    plan: ClearPlan
    next_steps: list[Message] = field(default_factory=list)


class Ledgerflow(Reads, BackfillUseCases):
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
    def backfill(self, req: BackfillRequest) -> Iterator[BackfillSession]:
        """Plans the backfill under the DAG lock (every refusal before any event) and keeps the
        lock while the face shows the plan, asks and runs it."""
        from ledgerflow.engine.application.backfill_object import refuse_second, resumable
        from ledgerflow.engine.application.backfill_plan import make_plan
        from ledgerflow.engine.application.backfill_session import BackfillSession

        op = _operation("dags backfill", actor=req.actor, reason=req.reason, arguments=req.arguments(),
                           mutating=not req.dry_run)
        led = self._ledger()
        with dag_lock(led, req.dag_id):
            plan = make_plan(led, req)
            resumes = None
            if plan.dates:
                refuse_second(led, req.dag_id)
                resumes = resumable(led, req.dag_id, iso(plan.start), iso(plan.end))
            yield BackfillSession(led, plan, op, resumes)

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

    # -- the scheduler -----------------------------------------------------------------------

    def scheduler(self, *, num_runs: int | None, subdir: Path | None, reason: str | None,
                  actor: str | None, on_pass: Callable[[DagPass], None],
                  on_broken: Callable[[str, str], None], should_stop: Callable[[], bool],
                  sleep: Callable[[float], object]) -> Scheduler:
        """Creates due scheduled runs and drives every queued run, loop after loop."""
        from ledgerflow.engine.runtime.scheduler import Scheduler

        if num_runs is not None and num_runs < 1:
            raise InvalidInput(Term("num_runs", "the number of loops"), " must be >= 1")
        op = _operation("scheduler", actor=actor, reason=reason,
                           arguments={"num_runs": num_runs, "subdir": str(subdir) if subdir else None})
        sched = Scheduler(self._ledger(), op, folder=subdir, should_stop=should_stop)
        sched.run(num_runs, on_pass, on_broken=on_broken, sleep=sleep)
        return sched

    # -- the views and the database ----------------------------------------------------------

    def rebuild_views(self) -> int:
        """Drops the views and replays every event into them; returns the events replayed."""
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

    @staticmethod
    def stop_embedded() -> database.EmbeddedStop | None:
        """Stops the embedded server; None when LEDGERFLOW_DATABASE_URL names another."""
        return None if settings.database_url() else database.stop_embedded()


# What faces use besides the service: commands, plans and results, and their formatting.
__all__ = ["BackfillPlan", "BackfillSession", "ClearPlan", "ClearResult", "Interrupted", "Ledgerflow", "Outcome",
           "Progress", "iso", "label", "version"]
