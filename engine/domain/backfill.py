"""The Backfill aggregate: a backfill as an object with its own events, as in Airflow 3.

Created with its parameters and a decision per logical date, then paused,
unpaused, cancelled or completed. Its number is its id for people and the HTTP
API; the aggregate's uuid derives from it, so two creates that pick the same
number conflict and the second writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from ledgerflow.engine.domain.backfill_state import BackfillState, evolve_backfill
from ledgerflow.engine.domain.dates import iso
from ledgerflow.engine.domain.stamped import StampedEvent
from ledgerflow.engine.domain.topics import stored_as

_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerflow.dev/backfill")


def backfill_uuid(number: int) -> UUID:
    return uuid5(_NAMESPACE, str(number))


@stored_as("engine.backfill")
class Backfill(Aggregate):
    class Event(StampedEvent):
        number: int  # every event names its backfill and DAG, so the audit view needs no lookup
        dag_id: str

        def apply(self, aggregate: Backfill) -> None:
            aggregate.state = evolve_backfill(aggregate.state, type(self).__name__, self.__dict__,
                                              iso(self.timestamp))

    class Created(Event, Aggregate.Created):
        from_date: str
        to_date: str
        reprocess_behavior: str | None
        max_active_runs: int
        run_backwards: bool
        dag_run_conf: dict[str, Any] | None
        driver: str
        dates: list[list[Any]]  # [logical_date, run_id, decision, base_version] (see BackfillState)

        def apply(self, aggregate: Backfill) -> None:
            aggregate.state = evolve_backfill(None, "Created", self.__dict__, iso(self.timestamp))

    class Paused(Event):
        pass

    class Unpaused(Event):
        driver: str

    class Cancelled(Event):
        skipped: list[str]  # the logical dates not yet started, now `skipped: cancelled`

    class Completed(Event):
        pass

    @staticmethod
    def create_id(number: int, **_: Any) -> UUID:
        return backfill_uuid(number)

    def __init__(self) -> None:
        self.state: BackfillState  # set by Created.apply, the fold's first step

    @classmethod
    def start(cls, stamp: dict[str, Any], **fields: Any) -> Backfill:
        return cls._create(cls.Created, **stamp, **fields)

    def record(self, event: type[Backfill.Event], stamp: dict[str, Any], **fields: Any) -> None:
        self.trigger_event(event, **stamp, number=self.state.id, dag_id=self.state.dag_id, **fields)


def decision_dates(dates: list[tuple[datetime, str, str, int]]) -> list[list[Any]]:
    return [[iso(d), run_id, why, base] for d, run_id, why, base in dates]
