"""Operations: every command that writes is one, with its actor, reason, host and outcome."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ledgerflow.engine.domain.topics import stored_as
from ledgerflow.engine.domain.values import json_document, text
from ledgerflow.engine.errors import InvalidInput, Term
from ledgerflow.engine.infrastructure import processes, settings


@stored_as("engine.operation")
class Operation(Aggregate):
    """The command itself: what was asked, by whom, why, and how it ended."""

    class Started(Aggregate.Created):
        name: str
        arguments: dict[str, Any]
        actor: str
        reason: str | None
        host: str
        ledgerflow_version: str
        process: str | None = None  # boot:pid:start, so a later command can tell it died

    class Ended(Aggregate.Event):
        outcome: str
        summary: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.outcome = self.outcome

    def __init__(self, name: str, arguments: dict[str, Any], actor: str, reason: str | None,
                 host: str, ledgerflow_version: str, process: str | None = None) -> None:
        self.name = name
        self.outcome: str | None = None


@dataclass
class OperationContext:
    """Stamped on every event a command appends."""

    name: str
    actor: str
    reason: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    id: UUID = field(default_factory=uuid4)
    aggregate: Operation | None = None

    @property
    def stamp(self) -> dict[str, Any]:
        return {
            "operation_id": str(self.id),
            "operation": self.name,
            "actor": self.actor,
            "reason": self.reason,
        }

    def started(self) -> Operation:
        """The Started event, to be appended with the command's first events."""
        if self.aggregate is None:
            self.aggregate = Operation._create(
                Operation.Started,
                id=self.id,
                name=self.name,
                arguments=self.arguments,
                actor=self.actor,
                reason=self.reason,
                host=socket.gethostname(),
                ledgerflow_version=settings.version(),
                process=processes.this_process(),
            )
        return self.aggregate

    def pending(self) -> list[Operation]:
        """The operation aggregate when it has events not yet appended."""
        agg = self.aggregate
        return [agg] if agg is not None and agg.pending_events else []

    def ended(self, outcome: str, **summary: Any) -> Operation:
        agg = self.started()
        agg.trigger_event(Operation.Ended, outcome=outcome, summary=summary)
        return agg


def new_operation(name: str, *, actor: str | None, reason: str | None,
                  arguments: dict[str, Any] | None = None, mutating: bool = True) -> OperationContext:
    """Refuses a mutating command without a reason when LEDGERFLOW_REQUIRE_REASON is set, and an
    actor or reason that the store could not keep (every event of the command carries both)."""
    if mutating and settings.require_reason() and not (reason and reason.strip()):
        raise InvalidInput(f"{name}: ", Term("reason", "a reason"), " is required (LEDGERFLOW_REQUIRE_REASON is set)")
    if reason is not None:
        text(reason, Term("reason", "the reason"))
    args = arguments if arguments is not None else {"argv": sys.argv[1:]}
    for key, value in args.items():  # recorded with the operation's first event, whatever it appends
        json_document(value, Term(key))
    return OperationContext(name=name, actor=text(settings.actor(actor), Term("actor", "the actor")), reason=reason,
                            arguments=args)
