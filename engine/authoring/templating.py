"""Jinja2 rendering of templated task fields with Airflow's context names (see `context`).

ledgerflow's own DAGs render in one shared sandbox that keeps a trailing newline; an Airflow
DAG file gets Airflow's environment: its template folder and template_searchpath, a dropped
trailing newline, `do`, its user_defined_macros and _filters, jinja_environment_kwargs, and a
native (non-sandboxed) environment with render_template_as_native_obj.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from jinja2.nativetypes import NativeEnvironment
from jinja2.sandbox import SandboxedEnvironment

from ledgerflow.engine.authoring.context import DagRunInfo, build_context

__all__ = ["DagRunInfo", "build_context", "call_with_context", "render", "rendered_fields"]


def _nodash(moment: datetime | None, fmt: str) -> str | None:
    return None if moment is None else moment.strftime(fmt)


FILTERS = {
    "ds": lambda d: _nodash(d, "%Y-%m-%d"), "ds_nodash": lambda d: _nodash(d, "%Y%m%d"),
    "ts": lambda d: None if d is None else d.isoformat(), "ts_nodash": lambda d: _nodash(d, "%Y%m%dT%H%M%S"),
    "ts_nodash_with_tz": lambda d: None if d is None else d.isoformat().replace("-", "").replace(":", ""),
}
_ENV = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True)
_ENV.filters.update(FILTERS)


def environment_of(dag: Any) -> Environment:
    """The DAG's Jinja environment (built once per DAG object)."""
    if dag is None or getattr(dag, "airflow_mode", None) is None:
        return _ENV
    built = dag.__dict__.get("_jinja_env")
    if built is None:
        folders = [os.path.dirname(dag.fileloc)] if dag.fileloc else []
        searchpath = dag.template_searchpath
        folders += [searchpath] if isinstance(searchpath, str) else list(searchpath or [])
        options: dict[str, Any] = {"undefined": dag.template_undefined or StrictUndefined,
                                   "extensions": ["jinja2.ext.do"], "cache_size": 0,
                                   "loader": FileSystemLoader(folders), **(dag.jinja_environment_kwargs or {})}
        kind = NativeEnvironment if dag.render_template_as_native_obj else SandboxedEnvironment
        built = kind(**options)
        built.filters.update(FILTERS)
        built.filters.update(dag.user_defined_filters or {})
        built.globals.update(dag.user_defined_macros or {})
        dag.__dict__["_jinja_env"] = built
    return built


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    """Compiling is most of a render's cost; a task renders the same source on every try."""
    return _ENV.from_string(source)


def render(value: Any, context: Mapping[str, Any], dag: Any = None) -> Any:
    """Renders strings, recursing through dicts (values), lists, tuples and sets."""
    if isinstance(value, str):
        if "{" not in value:
            return value
        env = environment_of(dag)
        template = _compiled(value) if env is _ENV else env.from_string(value)
        return template.render(context)
    if isinstance(value, dict):
        return {k: render(v, context, dag) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return type(value)(render(v, context, dag) for v in value)
    return value


def rendered_fields(task: Any, context: Mapping[str, Any]) -> dict[str, Any]:
    """Each templated field rendered; a field naming a file with one of the task's template_ext is
    that file's content, rendered."""
    dag = getattr(task, "dag", None)
    exts = tuple(getattr(task, "template_ext", ()))
    fields = {}
    for name in task.template_fields:
        value = getattr(task, name)
        if exts and isinstance(value, str) and value.endswith(exts):
            fields[name] = environment_of(dag).get_template(value).render(context)
        else:
            fields[name] = render(value, context, dag)
    return fields


def call_with_context(func: Any, context: Mapping[str, Any], kwargs: Mapping[str, Any],
                      args: Sequence[Any] = ()) -> Any:
    """Passes op_args, then the context names the callable's signature asks for, plus op_kwargs."""
    sig = inspect.signature(func)
    accepts_var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    positional = list(sig.parameters)[:len(args)]
    chosen = {
        name: context[name]
        for name in sig.parameters
        if name in context and name not in kwargs and name not in positional
    }
    if accepts_var_kw:
        chosen = {**{k: v for k, v in context.items() if k not in kwargs}, **chosen}
    return func(*args, **chosen, **kwargs)
