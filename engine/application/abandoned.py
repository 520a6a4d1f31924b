"""Operations whose process died before it could record how they ended.

A command killed with kill -9 (or a machine that went down) leaves its operation
without an outcome. The next command that looks (a backfill or the scheduler before
it plans, `audit show`) closes every such operation of this machine whose process
is certainly gone as `abandoned`, naming the process. An operation of another
machine stays open: nothing here can tell whether it still runs.
"""

from __future__ import annotations

import json
import socket

from eventsourcing.application import AggregateNotFoundError

from ledgerflow.engine.domain.operation import Operation
from ledgerflow.engine.errors import ConcurrentModification
from ledgerflow.engine.infrastructure import processes
from ledgerflow.engine.infrastructure.store import EVENTS_TABLE, Ledger

ABANDONED = "abandoned"

_OPEN_HERE = (
    "SELECT o.operation_id, e.state FROM operation o JOIN " + EVENTS_TABLE + " e "
    "ON e.originator_id = o.operation_id AND e.originator_version = 1 "
    "WHERE o.outcome IS NULL AND o.host = %s"
)


def close_abandoned(ledger: Ledger) -> list[str]:
    """Records `abandoned` for every open operation of this machine whose process is gone; returns their ids."""
    host = socket.gethostname()
    with ledger.cursor() as curs:
        curs.execute(_OPEN_HERE, (host,))
        rows = curs.fetchall()
    closed = []
    for row in rows:
        process = json.loads(bytes(row["state"])).get("process")
        if not processes.gone(process, host):
            continue
        try:
            op: Operation = ledger.repository.get(row["operation_id"])
        except AggregateNotFoundError:
            continue
        if op.outcome is not None:
            continue
        op.trigger_event(Operation.Ended, outcome=ABANDONED,
                         summary={"why": f"its process ({process}) on {host} is gone"})
        try:
            ledger.append(op)
        except ConcurrentModification:  # another command closed it first
            continue
        closed.append(str(row["operation_id"]))
    return closed
