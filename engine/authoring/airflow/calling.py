"""Calling a Python callable as Airflow does: op_args first, then the context names its signature asks for
(all of it with **kwargs), op_kwargs and templates_dict merged into the context first."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def call_callable(func: Callable[..., Any], op_args: Sequence[Any], context: Mapping[str, Any]) -> Any:
    params = list(inspect.signature(func).parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in params):
        positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        for name in positional[:len(op_args)]:
            if name in context:
                raise ValueError(f"The key {name!r} in args is a part of kwargs and therefore reserved.")
        taken = set(positional[:len(op_args)])
        return func(*op_args, **{k: v for k, v in context.items() if k not in taken})
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        named = [p for p in params if p.kind is not p.VAR_POSITIONAL]
        return func(*op_args, **{p.name: context[p.name] for p in named
                                 if p.kind is p.KEYWORD_ONLY and p.name in context})
    rest = params[len(op_args):]
    return func(*op_args, **{p.name: context[p.name] for p in rest if p.name in context})
