"""The views' and the database's use cases (rebuild, status, schema, roles, the embedded server),
mixed into the application service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledgerflow.engine.domain.read_port import views
from ledgerflow.engine.errors import RefusedCommand, Term
from ledgerflow.engine.infrastructure import database, migrations, roles, settings
from ledgerflow.engine.infrastructure.store import Ledger

if TYPE_CHECKING:
    from ledgerflow.engine.audit.verify import Report


@dataclass(frozen=True)
class RebuildPlan:
    events: int  # in the log, to replay
    broken_chain: str | None  # where the hash chain does not verify, when rebuilding despite it


class Maintenance:
    """Mixed into the service, which provides the ledger and the chain check."""

    # provided by the service (and Reads), listed before this class: these only name them
    _url: str | None
    _ledger: Callable[..., Ledger]
    verify_store: Callable[[], Report]

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


