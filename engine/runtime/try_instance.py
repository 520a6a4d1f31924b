"""The `ti` a running try sees: its ids, `xcom_push` and `xcom_pull` with Airflow's defaults, and the
downstream skips a branch decides. What it pushes goes back with the try's result and is recorded
in the run's events; what it pulls comes from the store (see `xcom_store`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ledgerflow.engine.domain.xcom_values import checked
from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.runtime.jobs import TaskJob
from ledgerflow.engine.runtime.xcom_store import Values, other_runs_xcoms, stored_xcoms

RETURN_VALUE = "return_value"


class TryInstance:
    def __init__(self, job: TaskJob, dag: Any) -> None:
        self.job = job
        self.dag_id, self.task_id, self.run_id = job.dag_id, job.task_id, job.run_id
        self.try_number = job.try_number
        self.map_index = -1
        self.task = dag.tasks[job.task_id]
        self.max_tries = job.try_number + self.task.retries
        self.logical_date = self.execution_date = job.logical_date
        self.hostname = settings.hostname()
        self.state = "running"
        self.airflow_mode = dag.airflow_mode
        self.pushed: dict[str, Any] = {}
        self.skip: list[str] = []
        self._stored: dict[str, dict[str, Any]] | None = None

    def xcom_push(self, key: str, value: Any, execution_date: Any = None) -> None:
        self.pushed[key] = checked(self.task_id, key, value)

    def push_result(self, value: Any, multiple_outputs: bool) -> None:
        """A callable's return value: each key of a dict as its own XCom with multiple_outputs, and the
        whole as return_value."""
        if value is None:
            return
        if multiple_outputs:
            if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                raise TypeError(f"Returned output was type {type(value).__name__}, expected a dict with str keys "
                                f"for multiple_outputs")
            for key, item in value.items():
                self.xcom_push(key, item)
        self.xcom_push(RETURN_VALUE, value)

    def _values(self) -> dict[str, dict[str, Any]]:
        if self._stored is None:
            self._stored = stored_xcoms(self.job.run_uuid)
        return {**self._stored, self.task_id: {**self._stored.get(self.task_id, {}), **self.pushed}}

    def _runs(self, dag_id: str | None, run_id: str | None, prior: bool) -> Iterator[Values]:
        """The runs a pull reads, newest first: this one (unless another DAG or run is named), then
        with include_prior_dates every earlier run of the DAG."""
        dag_id = dag_id or self.dag_id
        run_id = run_id or self.run_id
        own = dag_id == self.dag_id and run_id == self.run_id
        if own:
            yield self._values()
        if prior:
            yield from other_runs_xcoms(dag_id, upto=self.logical_date, skip=self.job.run_uuid)
        elif not own:
            yield from other_runs_xcoms(dag_id, run_id=run_id)

    def xcom_pull(self, task_ids: str | Iterable[str] | None = None, dag_id: str | None = None,
                  key: str | None = RETURN_VALUE, include_prior_dates: bool = False, map_indexes: Any = None,
                  default: Any = None, run_id: str | None = None, *, _missing_is_error: bool = False) -> Any:
        """Airflow 2: no task_ids means any task; Airflow 3: this task. `dag_id` alone: that DAG's run of
        this run_id; include_prior_dates: also its earlier runs, the newest value first."""
        runs = _Cached(self._runs(dag_id, run_id, include_prior_dates))
        if task_ids is None:
            if self.airflow_mode == 3:
                task_ids = self.task_id
            else:
                for values in runs:
                    for found in values.values():
                        if key is None or key in found:
                            return found[key] if key else next(iter(found.values()))
                return default
        if isinstance(task_ids, str):
            return self._newest(runs, task_ids, key, default, _missing_is_error)
        return [self._newest(runs, t, key, default, _missing_is_error) for t in task_ids]

    @classmethod
    def _newest(cls, runs: Iterable[Values], task_id: str, key: str | None, default: Any, strict: bool) -> Any:
        for values in runs:
            found = values.get(task_id, {})
            if found and (key is None or key in found):
                return cls._one(found, key, default, task_id, strict)
        return cls._one({}, key, default, task_id, strict)

    @staticmethod
    def _one(found: dict[str, Any], key: str | None, default: Any, task_id: str, strict: bool) -> Any:
        if key is None:
            return next(iter(found.values()), default)
        if key not in found and strict:
            from ledgerflow.engine.authoring.airflow.exceptions import XComNotFound

            raise XComNotFound(f"XComArg result from {task_id} with key={key!r} is not found")
        return found.get(key, default)

    def skip_downstream(self, task_ids: Iterable[str]) -> None:
        self.skip.extend(task_ids)


class _Cached:
    """The runs a pull reads, each read at most once however many task ids it asks for."""

    def __init__(self, runs: Iterator[Values]) -> None:
        self._source = runs
        self._seen: list[Values] = []

    def __iter__(self) -> Iterator[Values]:
        yield from self._seen
        for values in self._source:
            self._seen.append(values)
            yield values
