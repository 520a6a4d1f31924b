"""Pausing a DAG: events, so who paused it, when and why is in the audit trail.

A DAG's first sighting records the flag its `is_paused_upon_creation` asks for;
later changes to that argument change nothing, as in Airflow. The scheduler
creates no runs for a paused DAG and starts none of its queued runs; backfills
still run it.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from ledgerflow.engine.domain.stamped import StampedEvent
from ledgerflow.engine.domain.topics import stored_as


def dag_pause_id(dag_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"https://ledgerflow.dev/dag-pause/{dag_id}")


def paused_upon_creation(dag: object) -> bool:
    """The flag a DAG starts with: its `is_paused_upon_creation`, unpaused when it says nothing."""
    return bool(getattr(dag, "is_paused_upon_creation", None))


@stored_as("engine.dag_pause")
class DagPause(Aggregate):
    class Event(StampedEvent):
        dag_id: str

    class Sighted(Event, Aggregate.Created):
        is_paused: bool

    class Paused(Event):
        def apply(self, aggregate: DagPause) -> None:
            aggregate.is_paused = True

    class Unpaused(Event):
        def apply(self, aggregate: DagPause) -> None:
            aggregate.is_paused = False

    @staticmethod
    def create_id(dag_id: str, **_: Any) -> UUID:
        return dag_pause_id(dag_id)

    def __init__(self, dag_id: str, is_paused: bool) -> None:
        self.dag_id = dag_id
        self.is_paused = is_paused


PAUSE_EVENTS = {"Sighted", "Paused", "Unpaused"}


def paused_after(kind: str, payload: dict[str, Any]) -> bool:
    """The DAG's flag after one of its events (the views' fold)."""
    return payload["is_paused"] if kind == "Sighted" else kind == "Paused"
