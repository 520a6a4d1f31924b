"""Jinja2 rendering of templated task fields with Airflow's context names."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

_ENV = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True)


@dataclass(frozen=True)
class DagRunInfo:
    """What templates see as `dag_run`."""

    run_id: str
    conf: Mapping[str, Any]
    run_type: str
    logical_date: datetime


def build_context(*, dag_params: Mapping[str, Any], conf: Mapping[str, Any], run_id: str,
                  run_type: str, task_id: str, logical_date: datetime,
                  data_interval_start: datetime, data_interval_end: datetime,
                  try_number: int = 1) -> dict[str, Any]:
    params = {**dag_params, **conf}
    return {
        "ds": logical_date.strftime("%Y-%m-%d"),
        "ds_nodash": logical_date.strftime("%Y%m%d"),
        "ts": logical_date.isoformat(),
        "ts_nodash": logical_date.strftime("%Y%m%dT%H%M%S"),
        "logical_date": logical_date,
        "data_interval_start": data_interval_start,
        "data_interval_end": data_interval_end,
        "params": params,
        "dag_run": DagRunInfo(run_id, dict(conf), run_type, logical_date),
        "run_id": run_id,
        "task_id": task_id,
        "try_number": try_number,
    }


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    """Compiling is most of a render's cost; a task renders the same source on every try."""
    return _ENV.from_string(source)


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Renders strings, recursing through dicts, lists and tuples."""
    if isinstance(value, str):
        return _compiled(value).render(context) if "{" in value else value
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(render(v, context) for v in value)
    return value


def rendered_fields(task: Any, context: Mapping[str, Any]) -> dict[str, Any]:
    return {name: render(getattr(task, name), context) for name in task.template_fields}


def call_with_context(func: Any, context: Mapping[str, Any], kwargs: Mapping[str, Any]) -> Any:
    """Passes the context names the callable's signature asks for, plus op_kwargs."""
    sig = inspect.signature(func)
    accepts_var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    chosen = {
        name: context[name]
        for name in sig.parameters
        if name in context and name not in kwargs
    }
    if accepts_var_kw:
        chosen = {**{k: v for k, v in context.items() if k not in kwargs}, **chosen}
    return func(**chosen, **kwargs)
