"""The fields every event of a command's change carries: which operation made it, who and why."""

from __future__ import annotations

from eventsourcing.domain import Aggregate


class StampedEvent(Aggregate.Event):
    """Filled from OperationContext.stamp."""

    operation_id: str
    operation: str
    actor: str
    reason: str | None
