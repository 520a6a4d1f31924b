"""Running tries: the runner, executors, workers, sub-DAGs, and the clear watch."""

# Sub-DAG tries register their runner with the worker here, so the worker need not import it.
from ledgerflow.engine.runtime import subdag as _subdag  # noqa: F401
