"""ledgerflow: event-sourced backfill and clear for Airflow-style DAGs, with an immutable audit log.

DAG files import the authoring API from here (`from ledgerflow import DAG, BashTask`).
The parts: `ledgerflow.engine` (the write side and application services),
`ledgerflow.projections` (the read side) and `ledgerflow.cli` (the command line).
"""

from ledgerflow.engine.authoring.dag import DAG, BashTask, EmptyTask, PythonTask, SubDagTask

__all__ = ["DAG", "BashTask", "EmptyTask", "PythonTask", "SubDagTask"]
