"""The template context a try sees, with Airflow's names and formats.

Datetimes are pendulum values in UTC, as Airflow gives them (so `ds` of a run at local
midnight east of UTC is the previous day). Airflow 3 (the DAG's airflow_mode) drops the
keys Airflow 2 had deprecated. `conf`, Airflow's configuration, is not available: using it
fails the render with a message saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pendulum

from ledgerflow.engine.authoring.macros import macros

_AIRFLOW2_ONLY = ("execution_date", "next_execution_date", "next_ds", "next_ds_nodash", "prev_execution_date",
                  "prev_ds", "prev_ds_nodash", "yesterday_ds", "yesterday_ds_nodash", "tomorrow_ds",
                  "tomorrow_ds_nodash", "prev_execution_date_success")
CONTEXT_KEYS = frozenset({
    "ds", "ds_nodash", "ts", "ts_nodash", "ts_nodash_with_tz", "logical_date", "data_interval_start",
    "data_interval_end", "prev_data_interval_start_success", "prev_data_interval_end_success",
    "prev_start_date_success", "prev_end_date_success", "dag", "task", "run_id", "dag_run", "ti",
    "task_instance", "task_instance_key_str", "params", "macros", "var", "conn", "conf", "inlets", "outlets",
    "templates_dict", "test_mode", "expanded_ti_count", "map_index_template", "triggering_dataset_events",
    "task_reschedule_count", "try_number", "task_id", *_AIRFLOW2_ONLY,
})


@dataclass(frozen=True)
class DagRunInfo:
    """What templates see as `dag_run`."""

    run_id: str
    conf: Mapping[str, Any]
    run_type: str
    logical_date: datetime
    dag_id: str = ""
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    start_date: datetime | None = None

    @property
    def execution_date(self) -> datetime:
        return self.logical_date

    @property
    def external_trigger(self) -> bool:
        return self.run_type == "manual"

    @property
    def run_after(self) -> datetime | None:
        return self.data_interval_end


class ConfigUnavailable(Exception):
    """Not an AttributeError, which Jinja would turn into an undefined value."""


class _NoConfig:
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ConfigUnavailable("Airflow's configuration (`conf`) is not available to DAG files run by ledgerflow")


@dataclass
class PreviewTI:
    """The `ti` of a dry run: ids and try 1; pulls find nothing, pushes are not kept."""

    dag_id: str
    task_id: str
    run_id: str
    try_number: int = 1
    map_index: int = -1
    pushed: dict[str, Any] = field(default_factory=dict)

    def xcom_pull(self, *args: Any, default: Any = None, **kwargs: Any) -> Any:
        return default

    def xcom_push(self, key: str, value: Any, **_: Any) -> None:
        self.pushed[key] = value


def utc(moment: datetime) -> pendulum.DateTime:
    return pendulum.instance(moment).in_timezone("UTC")


_NEIGHBOUR_WORDS = ("prev_", "next_", "execution_date")


def _mentions(value: Any) -> bool:
    if isinstance(value, str):
        return any(word in value for word in _NEIGHBOUR_WORDS)
    if isinstance(value, dict):
        return any(_mentions(v) for v in value.values())
    return isinstance(value, list | tuple | set) and any(_mentions(v) for v in value)


def _wants_neighbours(task: Any) -> bool:
    """Walking a schedule costs more than the rest of the context: done only for a task whose templates
    name a neighbour, or whose callable may ask for one (it takes **kwargs or names one)."""
    if task is None:
        return True
    found = task.__dict__.get("_wants_neighbours")
    if found is None:
        import inspect

        func = getattr(task, "python_callable", None)
        asks = False
        if callable(func):
            params = inspect.signature(func).parameters.values()
            asks = any(p.kind is p.VAR_KEYWORD or _mentions(p.name) for p in params)
        exts = tuple(getattr(task, "template_ext", ()))
        fields = [getattr(task, name, None) for name in task.template_fields]
        found = asks or any(_mentions(v) or (exts and isinstance(v, str) and v.endswith(exts)) for v in fields)
        task.__dict__["_wants_neighbours"] = found
    return bool(found)


def _neighbours(dag: Any, run_type: str, logical: datetime, interval_end: datetime
                ) -> tuple[datetime | None, datetime | None]:
    """The schedule points before and after a run (a manual run's, or an unscheduled DAG's: its own date)."""
    tt = dag.timetable
    if run_type == "manual" or not tt.periodic or tt.once:
        return logical, logical
    following = interval_end if interval_end > logical else tt.next_after(logical)
    return tt.previous_before(logical, hint=following - logical), following


def _ds(moment: datetime | None, fmt: str = "%Y-%m-%d") -> str | None:
    return None if moment is None else moment.strftime(fmt)


def build_context(*, dag: Any, task_id: str, run_id: str, run_type: str, conf: Mapping[str, Any],
                  logical_date: datetime, data_interval_start: datetime, data_interval_end: datetime,
                  try_number: int = 1, ti: Any = None,
                  prev_success: Callable[[], Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """`params`: the DAG's, the task's, then the run's conf, each Param's default applied and value checked.
    `prev_success`: the values of the latest earlier successful run, asked only for a task that may use them."""
    from ledgerflow.engine.authoring.airflow.params import resolve_params
    from ledgerflow.engine.authoring.airflow.variables import CONN, VAR

    logical = utc(logical_date)
    task = dag.tasks.get(task_id)
    ti = ti or PreviewTI(dag.dag_id, task_id, run_id, try_number)
    resolved = resolve_params(dag.params, getattr(task, "params", None) or {}, conf=conf)
    ds = logical.strftime("%Y-%m-%d")
    context: dict[str, Any] = {
        "ds": ds, "ds_nodash": logical.strftime("%Y%m%d"), "ts": logical.isoformat(),
        "ts_nodash": logical.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": logical.isoformat().replace("-", "").replace(":", ""),
        "logical_date": logical, "data_interval_start": utc(data_interval_start),
        "data_interval_end": utc(data_interval_end),
        "prev_data_interval_start_success": None, "prev_data_interval_end_success": None,
        "prev_start_date_success": None, "prev_end_date_success": None,
        "dag": dag, "task": task, "run_id": run_id, "ti": ti, "task_instance": ti,
        "dag_run": DagRunInfo(run_id, dict(conf), run_type, logical, dag.dag_id, utc(data_interval_start),
                              utc(data_interval_end)),
        "task_instance_key_str": f"{dag.dag_id}__{task_id}__{logical.strftime('%Y%m%d')}",
        "params": resolved, "macros": macros, "var": VAR, "conn": CONN, "conf": _NoConfig(),
        "inlets": [], "outlets": [], "templates_dict": None, "test_mode": False, "expanded_ti_count": None,
        "map_index_template": None, "triggering_dataset_events": {},
        "task_id": task_id, "try_number": try_number,
    }
    wanted = _wants_neighbours(task)
    success = dict(prev_success() if prev_success is not None and wanted else {})
    context.update({k: v for k, v in success.items() if k != "prev_execution_date_success"})
    if dag.airflow_mode == 3:
        context["task_reschedule_count"] = 0
        return context
    if not wanted:
        return context
    prev, following = _neighbours(dag, run_type, logical, utc(data_interval_end))
    context.update({
        "execution_date": logical, "prev_execution_date": prev and utc(prev),
        "next_execution_date": following and utc(following), "prev_ds": _ds(prev and utc(prev)),
        "prev_ds_nodash": _ds(prev and utc(prev), "%Y%m%d"), "next_ds": _ds(following and utc(following)),
        "next_ds_nodash": _ds(following and utc(following), "%Y%m%d"),
        "yesterday_ds": _ds(logical - timedelta(days=1)), "yesterday_ds_nodash": _ds(logical - timedelta(days=1),
                                                                                     "%Y%m%d"),
        "tomorrow_ds": _ds(logical + timedelta(days=1)), "tomorrow_ds_nodash": _ds(logical + timedelta(days=1),
                                                                                   "%Y%m%d"),
        "prev_execution_date_success": success.get("prev_execution_date_success"),
    })
    return context
