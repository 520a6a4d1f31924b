"""Airflow's `DAG` and `@dag`: a ledgerflow DAG built with Airflow's arguments and its version's defaults."""

from __future__ import annotations

import functools
import inspect
import os
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from ledgerflow.engine.authoring import dag as native
from ledgerflow.engine.authoring.airflow import mode
from ledgerflow.engine.authoring.airflow.dates import zone_of
from ledgerflow.engine.authoring.airflow.timetables import BuiltinTimetable
from ledgerflow.engine.authoring.airflow.unsupported import unsupported_feature

_UNSET: Any = object()
_POSITIONAL = ("description", "schedule", "schedule_interval", "timetable", "start_date", "end_date",
               "full_filepath", "template_searchpath", "template_undefined", "user_defined_macros",
               "user_defined_filters", "default_args", "concurrency", "max_active_tasks", "max_active_runs")
_RECORDED = {  # accepted, kept on the DAG, changing nothing here
    "description": None, "full_filepath": None, "template_undefined": None, "sla_miss_callback": None,
    "default_view": "grid", "orientation": "LR", "on_success_callback": None, "on_failure_callback": None,
    "doc_md": None, "access_control": None, "owner_links": None, "auto_register": True,
    "dag_display_name": None, "max_consecutive_failed_dag_runs": 0, "dagrun_timeout": None,
    "template_searchpath": None, "user_defined_macros": None, "user_defined_filters": None,
    "render_template_as_native_obj": False, "jinja_environment_kwargs": None,
}
_OWN = {"schedule", "schedule_interval", "timetable", "start_date", "end_date", "default_args", "concurrency",
        "max_active_tasks", "max_active_runs", "catchup", "params", "is_paused_upon_creation", "tags", "fail_stop"}
_ONLY_3 = {"deadline", "allowed_run_types", "disable_bundle_versioning", "rerun_with_latest_version", "fail_fast"}


def _check_owner_links(dag_id: str, links: dict[str, str]) -> None:
    """Each owner's link is a URL with a scheme and a host, or a mailto: address, as Airflow requires."""
    from urllib.parse import urlparse

    from ledgerflow.engine.authoring.airflow.exceptions import AirflowException

    for owner, link in links.items():
        parts = urlparse(str(link))
        if not (parts.scheme == "mailto" or (parts.scheme and parts.netloc)):
            raise AirflowException(f"Wrong link format was used for the owner. Use a valid link; DAG: {dag_id}, "
                                   f"owner: {owner}, link: {link}")


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("true", "1", "yes")


class DAG(native.DAG):
    """Airflow 2 takes the arguments positionally too; Airflow 3 only dag_id (see `mode`)."""

    def __init__(self, dag_id: str, *args: Any, **kwargs: Any) -> None:
        airflow = mode.current()
        if args:
            if airflow == 3:
                raise TypeError("DAG() takes dag_id as its only positional argument in Airflow 3")
            kwargs.update(zip(_POSITIONAL, args, strict=False))
        allowed = _OWN | _RECORDED.keys() | (_ONLY_3 if airflow == 3 else set())
        if airflow == 3:
            allowed -= {"schedule_interval", "timetable", "concurrency", "full_filepath", "fail_stop"}
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise TypeError(f"DAG.__init__() got an unexpected keyword argument {unknown[0]!r}")
        if kwargs.get("fail_stop") or kwargs.get("fail_fast"):
            raise unsupported_feature(f"DAG {dag_id!r}: fail_stop")
        _check_owner_links(dag_id, kwargs.get("owner_links") or {})
        default_args = dict(kwargs.get("default_args") or {})
        start = kwargs.get("start_date") or default_args.get("start_date")
        zone = zone_of(start)
        schedule = self._schedule(dag_id, kwargs, airflow)
        trigger = airflow == 3 and not _flag("AIRFLOW__SCHEDULER__CREATE_CRON_DATA_INTERVALS", False)
        timezone = zone.name
        if isinstance(schedule, BuiltinTimetable):  # its class says the interval style, its zone the cron's
            trigger, timezone = schedule.trigger, schedule.timezone or zone.name
            schedule = schedule.schedule
        for name, default in _RECORDED.items():
            setattr(self, name, kwargs.get(name, default))
        catchup = kwargs.get("catchup", _UNSET)
        if catchup is _UNSET:
            catchup = _flag("AIRFLOW__SCHEDULER__CATCHUP_BY_DEFAULT", airflow == 2)
        super().__init__(
            dag_id, schedule=schedule, start_date=zone.aware(start), end_date=zone.aware(kwargs.get("end_date")),
            catchup=bool(catchup), max_active_runs=kwargs.get("max_active_runs", 16),
            max_active_tasks=kwargs.get("max_active_tasks", kwargs.get("concurrency") or 16),
            default_args=default_args, params=kwargs.get("params"), timezone=timezone,
            description=kwargs.get("description"), tags=kwargs.get("tags"),
            is_paused_upon_creation=kwargs.get("is_paused_upon_creation"),
            trigger_intervals=trigger and schedule not in (None, "@once"),
        )
        self.airflow_mode = airflow
        self.doc_md = kwargs.get("doc_md")

    @staticmethod
    def _schedule(dag_id: str, kwargs: dict[str, Any], airflow: int) -> Any:
        given = [n for n in ("schedule", "schedule_interval", "timetable")  # the aliases: None is not given
                 if n in kwargs and (n == "schedule" or kwargs[n] is not None)]
        if len(given) > 1:
            raise ValueError(f"DAG {dag_id!r}: give only one of schedule, schedule_interval and timetable")
        if "timetable" in given and not isinstance(kwargs["timetable"], BuiltinTimetable):
            raise unsupported_feature(f"DAG {dag_id!r}: timetable={kwargs['timetable']!r}")
        if "schedule_interval" in given:
            warnings.warn("schedule_interval is deprecated: use schedule", DeprecationWarning, stacklevel=3)
        if not given:
            return timedelta(days=1) if airflow == 2 else None
        schedule = kwargs[given[0]]
        if schedule is None or isinstance(schedule, timedelta | relativedelta | BuiltinTimetable):
            return schedule
        if not isinstance(schedule, str) or schedule == "@continuous":
            raise unsupported_feature(f"DAG {dag_id!r}: schedule={schedule!r}")
        return schedule


def dag(dag_id: Any = None, **dag_kwargs: Any) -> Callable[..., Any]:
    """`@dag(...)` (or bare `@dag`): calling the function builds the DAG, its parameters become params."""
    from ledgerflow.engine.authoring.airflow.xcomarg import DagParam

    def decorate(func: Callable[..., Any]) -> Callable[..., DAG]:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def factory(*args: Any, **kwargs: Any) -> DAG:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            params = {**bound.arguments, **(dag_kwargs.get("params") or {})}
            options = {k: v for k, v in dag_kwargs.items() if k not in ("dag_id", "params")}
            options.setdefault("doc_md", func.__doc__)
            name = dag_kwargs.get("dag_id") or (dag_id if isinstance(dag_id, str) else func.__name__)
            with DAG(name, params=params, **options) as built:
                func(**{k: DagParam(k, v) for k, v in bound.arguments.items()})
            return built  # type: ignore[return-value]  # the `with` gives back this DAG

        return factory

    return decorate(dag_id) if callable(dag_id) else decorate
