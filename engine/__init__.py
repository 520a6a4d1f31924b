"""ledgerflow's write side and the DAG authoring API."""

from engine.dag import DAG, BashTask, EmptyTask, PythonTask, SubDagTask

__all__ = ["DAG", "BashTask", "EmptyTask", "PythonTask", "SubDagTask"]
