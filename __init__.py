"""ledgerflow: event-sourced backfill and clear for Airflow-style DAGs, with an immutable audit log.

DAG files import the authoring API from here (`from ledgerflow import DAG, BashTask`).
The parts: `ledgerflow.engine` (the write side and application services),
`ledgerflow.projections` (the read side) and `ledgerflow.cli` (the command line).
The authoring API is imported when first asked for, so a command that loads no DAG
file does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledgerflow.engine.authoring.dag import DAG, BashTask, EmptyTask, PythonTask, SubDagTask

__all__ = ["DAG", "BashTask", "EmptyTask", "PythonTask", "SubDagTask"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ledgerflow.engine.authoring import dag

        return getattr(dag, name)
    raise AttributeError(f"module 'ledgerflow' has no attribute {name!r}")
