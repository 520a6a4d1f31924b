"""The DagRun aggregate: one per (dag_id, logical_date), holding its task instances."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from ledgerflow.engine.domain.run_state import RunState, evolve
from ledgerflow.engine.domain.stamped import StampedEvent
from ledgerflow.engine.domain.topics import stored_as

_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerflow.dev/dagrun")


def dagrun_id(dag_id: str, logical_date: str) -> UUID:
    """Deterministic: the same DAG and logical date can only ever have one run."""
    return uuid5(_NAMESPACE, f"{dag_id}|{logical_date}")


@stored_as("engine.dagrun")
class DagRun(Aggregate):
    """Events carry the operation, actor and reason that caused them."""

    class Event(StampedEvent):
        def apply(self, aggregate: DagRun) -> None:
            aggregate.run = evolve(aggregate.run, type(self).__name__, self.__dict__)

    class Created(Event, Aggregate.Created):
        dag_id: str
        run_id: str
        logical_date: str
        data_interval_start: str
        data_interval_end: str
        run_type: str
        state: str
        conf: dict[str, Any]
        dag_fingerprint: str | None
        tasks: dict[str, int]

        def apply(self, aggregate: DagRun) -> None:
            aggregate.run = evolve(None, type(self).__name__, self.__dict__)  # the fold's first step

    class TaskInstancesChanged(Event):
        changes: list[dict[str, Any]]

    class StateChanged(Event):
        from_state: str
        to_state: str

    class Cleared(Event):
        changes: list[dict[str, Any]]
        run_from: str
        run_to: str

    class Reset(Event):
        changes: list[dict[str, Any]]
        run_from: str
        run_to: str

    class Adopted(Event):
        run_type: str
        conf: dict[str, Any]
        from_run_type: str
        from_conf: dict[str, Any] | None = None  # recorded since conf changes are shown; None before

    class TasksAdded(Event):
        tasks: dict[str, int]

    class TakenOver(Event):
        """A run left running by a driver that is gone (its lease is free), now driven by this operation."""

        from_operation_id: str | None
        from_operation: str | None
        from_actor: str | None

    @staticmethod
    def create_id(dag_id: str, logical_date: str, **_: Any) -> UUID:
        return dagrun_id(dag_id, logical_date)

    def __init__(self) -> None:
        # declared, not set: Created.apply (the fold's first step) or resume sets it, so every
        # constructed DagRun has its state
        self.run: RunState

    @classmethod
    def start(cls, **fields: Any) -> DagRun:
        """Creates a run; fields are those of `Created`."""
        return cls._create(cls.Created, **fields)

    @classmethod
    def resume(cls, run_uuid: UUID, version: int, run: RunState) -> DagRun:
        """Rehydrates from a projected state at a known version (optimistic concurrency)."""
        agg = cls.__new__(cls)
        agg._id = run_uuid
        agg._version = version
        agg._created_on = agg._modified_on = None  # type: ignore[assignment]
        agg._pending_events = []
        agg.run = run
        return agg


@stored_as("engine.dagrun")
class RunIdClaim(Aggregate):
    """A manual run's run_id, claimed in the same append as the run.

    Its id derives from (dag_id, run_id), so two runs can never share a run_id,
    even when two triggers race: the second append conflicts and writes nothing.
    """

    class Claimed(StampedEvent, Aggregate.Created):
        dag_id: str
        run_id: str
        run_uuid: str

    @staticmethod
    def create_id(dag_id: str, run_id: str, **_: Any) -> UUID:
        return uuid5(_NAMESPACE, f"run_id|{dag_id}|{run_id}")

    def __init__(self, dag_id: str, run_id: str) -> None:
        self.dag_id = dag_id
        self.run_id = run_id

    @classmethod
    def claim(cls, run: DagRun, stamp: dict[str, Any]) -> RunIdClaim:
        return cls._create(cls.Claimed, **stamp, dag_id=run.run.dag_id, run_id=run.run.run_id,
                           run_uuid=str(run.id))
