"""Pool use cases."""

from __future__ import annotations

import re

from eventsourcing.application import AggregateNotFoundError

from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.domain.pools import Pool, pool_id
from ledgerflow.engine.domain.values import integer
from ledgerflow.engine.errors import InvalidInput
from ledgerflow.engine.infrastructure.store import Ledger


def check_pool(name: str, slots: int) -> None:
    """A pool name and slots the views can hold (pool.slots is an integer column)."""
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise InvalidInput(f"invalid pool name {name!r}: use letters, digits, _ . -")
    integer(slots, "pool slots")


def set_pool(ledger: Ledger, op: OperationContext, name: str, slots: int) -> Pool:
    check_pool(name, slots)
    try:
        pool: Pool = ledger.repository.get(pool_id(name))
    except AggregateNotFoundError:
        pool = Pool._create(Pool.Created, **op.stamp, name=name, slots=slots)
    else:
        pool.trigger_event(Pool.SlotsSet, **op.stamp, name=name, slots=slots)
    ledger.append(op.started(), pool, op.ended("success", pool=name, slots=slots))
    return pool
