"""Pools: named slot limits shared by every run, set through events."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from ledgerflow.engine.domain.stamped import StampedEvent
from ledgerflow.engine.domain.topics import stored_as

DEFAULT_POOL = "default_pool"
DEFAULT_POOL_SLOTS = 128


def pool_id(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"https://ledgerflow.dev/pool/{name}")


@stored_as("engine.pools")
class Pool(Aggregate):
    class Event(StampedEvent):
        pass

    class Created(Event, Aggregate.Created):
        name: str
        slots: int

    class SlotsSet(Event):
        name: str
        slots: int

        def apply(self, aggregate: Pool) -> None:
            aggregate.slots = self.slots

    @staticmethod
    def create_id(name: str, **_: Any) -> UUID:
        return pool_id(name)

    def __init__(self, name: str, slots: int) -> None:
        self.name = name
        self.slots = slots
