"""Pausing and unpausing a DAG, and recording a DAG's first sighting, as DagPause events."""

from __future__ import annotations

from eventsourcing.application import AggregateNotFoundError

from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.domain.dag_pause import DagPause, dag_pause_id, paused_upon_creation
from ledgerflow.engine.domain.operation import OperationContext
from ledgerflow.engine.infrastructure.store import Ledger


def _sighted(ledger: Ledger, dag: DAG, op: OperationContext) -> DagPause:
    try:
        found: DagPause = ledger.repository.get(dag_pause_id(dag.dag_id))
    except AggregateNotFoundError:
        return DagPause._create(DagPause.Sighted, **op.stamp, dag_id=dag.dag_id, is_paused=paused_upon_creation(dag))
    return found


def set_paused(ledger: Ledger, op: OperationContext, dag: DAG, paused: bool) -> bool:
    """Records the pause or unpause; returns False (nothing written) when the DAG was so already."""
    agg = _sighted(ledger, dag, op)
    if agg.is_paused == paused and not agg.pending_events:
        return False
    if agg.is_paused != paused:
        agg.trigger_event(DagPause.Paused if paused else DagPause.Unpaused, **op.stamp, dag_id=dag.dag_id)
    ledger.append(op.started(), agg, op.ended("success", dag_id=dag.dag_id, is_paused=paused))
    return True


def first_sightings(dags: list[DAG], known: dict[str, bool], op: OperationContext) -> list[DagPause]:
    """Sighted events for the DAGs the views have no flag for yet (appended by the caller)."""
    return [DagPause._create(DagPause.Sighted, **op.stamp, dag_id=d.dag_id, is_paused=paused_upon_creation(d))
            for d in dags if d.dag_id not in known]
