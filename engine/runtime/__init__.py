"""Running tries: the runner, executors, workers, sub-DAGs, and the clear watch."""
