"""Running tries: the runner, executors, workers, sub-DAGs, and the clear watch."""

# Sub-DAG and Airflow operator tries register their runners with the worker here, so the worker
# need not import them.
from ledgerflow.engine.runtime import operator_tries as _operator_tries  # noqa: F401
from ledgerflow.engine.runtime import subdag as _subdag  # noqa: F401
