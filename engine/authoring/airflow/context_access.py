"""`get_current_context()`: the context of the try running in this process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ledgerflow.engine.authoring.airflow.exceptions import AirflowException

_current: list[dict[str, Any]] = []


def get_current_context() -> dict[str, Any]:
    if not _current:
        raise AirflowException("Current context was requested but no context was found! Are you running within "
                               "a task?")
    return _current[-1]


@contextlib.contextmanager
def current_context(context: dict[str, Any]) -> Iterator[None]:
    _current.append(context)
    try:
        yield
    finally:
        _current.pop()
