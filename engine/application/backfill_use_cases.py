"""The backfill objects' and the pause flag's use cases, mixed into the application service.

Each is one method a face calls: create (or its dry run), list, show, pause, unpause
and cancel a backfill; pause or unpause a DAG and read its flag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledgerflow.engine.application.reads import dag_file, instant
from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.domain.operation import OperationContext, new_operation
from ledgerflow.engine.domain.read_port import listings, views
from ledgerflow.engine.domain.values import INT8_MAX, integer, text
from ledgerflow.engine.errors import BackfillNotFound, Conflict, Term
from ledgerflow.engine.infrastructure.store import Ledger

if TYPE_CHECKING:
    from ledgerflow.engine.application.backfill_create import NewBackfill
    from ledgerflow.engine.application.commands import CreateBackfill
    from ledgerflow.engine.authoring.dag import DAG


def _number(backfill_id: object) -> int:
    return integer(backfill_id, Term("backfill_id", "the backfill id"), low=1, high=INT8_MAX)


class BackfillUseCases:
    """Mixed into the service, which provides the ledger."""

    # provided by the service (and Reads), listed before this class: these only name them
    _ledger: Callable[..., Ledger]
    _read_ledger: Callable[[], Ledger]

    # -- backfill objects ----------------------------------------------------------------------

    def plan_backfill(self, cmd: CreateBackfill) -> NewBackfill:
        """What `create_backfill` would record (the dry run): every refusal, nothing written."""
        from ledgerflow.engine.application.backfill_create import plan_new_backfill

        text(cmd.dag_id, Term("dag_id"))
        return plan_new_backfill(self._ledger(), cmd)

    def create_backfill(self, cmd: CreateBackfill) -> dict[str, Any]:
        """Records a backfill the scheduler drives; a dry run returns what it would record, writing nothing."""
        from ledgerflow.engine.application.backfill_create import create_backfill
        from ledgerflow.engine.infrastructure.locks import creation_lock

        op = new_operation("backfill create", actor=cmd.actor, reason=cmd.reason, arguments=cmd.arguments(),
                           mutating=not cmd.dry_run)
        if cmd.dry_run:
            return {**self.plan_backfill(cmd).fields, "id": None}
        led = self._ledger()
        with creation_lock(led, cmd.dag_id):
            plan = self.plan_backfill(cmd)  # again under the lock: the one-active check holds till the append
            number = create_backfill(led, plan, op).state.id
        return self.get_backfill(number)

    def backfills(self, dag_id: str | None = None, as_of: str | None = None) -> list[dict[str, Any]]:
        """Every backfill (of the DAG), oldest first, now or as recorded at an instant."""
        if dag_id is not None:
            text(dag_id, Term("dag_id"))
        return listings(self._read_ledger()).backfills(dag_id, as_of=instant(as_of, "as_of"))

    def backfill_changed_at(self, dag_id: str) -> dict[int, str]:
        """When each backfill of the DAG last changed, by id (the views keep only its creation and end)."""
        text(dag_id, Term("dag_id"))
        return {n: iso(at) for n, at in listings(self._read_ledger()).backfill_changed_at(dag_id).items()}

    def get_backfill(self, backfill_id: int, as_of: str | None = None) -> dict[str, Any]:
        number = _number(backfill_id)
        when = instant(as_of, "as_of")
        rows = [r for r in listings(self._read_ledger()).backfills(as_of=when) if r["id"] == number]
        if not rows:
            raise BackfillNotFound(f"there is no backfill {number}" + (f" as of {as_of}" if when else ""))
        return rows[0]

    def backfill_dates(self, backfill_id: int, as_of: str | None = None) -> list[dict[str, Any]]:
        """The backfill's logical dates: run_id, decision and the run's state."""
        number = _number(backfill_id)
        when = instant(as_of, "as_of")
        rows = listings(self._read_ledger()).backfill_dates(number, as_of=when)
        if rows is None:
            raise BackfillNotFound(f"there is no backfill {number}" + (f" as of {as_of}" if when else ""))
        return rows

    def pause_backfill(self, backfill_id: int, actor: str | None = None, reason: str | None = None) -> dict[str, Any]:
        """No new run starts; running ones finish. A foreground backfill's process stops opening runs."""
        from ledgerflow.engine.domain.backfill import Backfill

        return self._change(backfill_id, "backfill pause", actor, reason, Backfill.Paused, want="running")

    def unpause_backfill(self, backfill_id: int, actor: str | None = None, reason: str | None = None
                         ) -> dict[str, Any]:
        """The scheduler drives it again (a foreground one too: re-running its command is the other way)."""
        from ledgerflow.engine.domain.backfill import Backfill
        from ledgerflow.engine.domain.backfill_state import SCHEDULER

        return self._change(backfill_id, "backfill unpause", actor, reason, Backfill.Unpaused, want="paused",
                            driver=SCHEDULER)

    def cancel_backfill(self, backfill_id: int, actor: str | None = None, reason: str | None = None
                        ) -> dict[str, Any]:
        """No new run starts, and every date not started yet is recorded `skipped: cancelled`."""
        from ledgerflow.engine.domain.backfill import Backfill

        return self._change(backfill_id, "backfill cancel", actor, reason, Backfill.Cancelled, want=None)

    def _change(self, backfill_id: int, name: str, actor: str | None, reason: str | None, event: type,
                *, want: str | None, **fields: Any) -> dict[str, Any]:
        from ledgerflow.engine.application.backfill_object import load_backfill, record, unstarted
        from ledgerflow.engine.infrastructure.locks import backfill_leased

        number = _number(backfill_id)
        op: OperationContext = new_operation(name, actor=actor, reason=reason, arguments={"backfill_id": number})
        led = self._ledger()
        agg = load_backfill(led, number)
        if agg is None:
            raise BackfillNotFound(f"there is no backfill {number}")
        state = agg.state
        if not state.active or (want is not None and state.state != want):
            done = {"backfill pause": "paused", "backfill unpause": "unpaused", "backfill cancel": "cancelled"}[name]
            raise Conflict(f"backfill {number} is {state.state}; only a {want or 'running or paused'} "
                                 f"backfill can be {done}")
        if fields.get("driver") and state.driver != fields["driver"] and backfill_leased(led, number):
            raise Conflict(f"backfill {number} is being driven by its own process right now")
        if name == "backfill cancel":
            fields["skipped"] = unstarted(led, state)
        op.started()
        op.ended("success", backfill_id=number)
        record(led, number, event, op, with_op=True, **fields)
        return self.get_backfill(number)

    # -- pausing DAGs ------------------------------------------------------------------------

    def set_paused(self, dag_id: str, paused: bool, actor: str | None = None, reason: str | None = None,
                   subdir: Path | None = None) -> bool:
        """Pauses or unpauses the DAG (an event); False when it was so already (nothing written)."""
        from ledgerflow.engine.application.pause import set_paused

        text(dag_id, Term("dag_id"))
        dag = dag_file(dag_id, subdir)
        op = new_operation("dags pause" if paused else "dags unpause", actor=actor, reason=reason,
                           arguments={"dag_id": dag_id})
        return set_paused(self._ledger(), op, dag, paused)

    def pause_flags(self, dags: Iterable[DAG]) -> dict[str, bool]:
        """Each loaded DAG's paused flag in one read (a DAG never sighted: its is_paused_upon_creation)."""
        from ledgerflow.engine.domain.dag_pause import paused_upon_creation

        flags = views(self._read_ledger()).pause_flags()
        return {d.dag_id: flags[d.dag_id] if d.dag_id in flags else paused_upon_creation(d) for d in dags}

    def is_paused(self, dag_id: str, subdir: Path | None = None) -> bool:
        """The DAG's paused flag; a DAG never sighted has the one its is_paused_upon_creation asks for."""
        text(dag_id, Term("dag_id"))
        flags = views(self._read_ledger()).pause_flags()
        if dag_id in flags:
            return flags[dag_id]
        from ledgerflow.engine.domain.dag_pause import paused_upon_creation

        return paused_upon_creation(dag_file(dag_id, subdir))
