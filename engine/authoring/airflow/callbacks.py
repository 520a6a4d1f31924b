"""A task's Airflow callbacks (`on_execute_callback`, `on_success_callback`, `on_failure_callback`,
`on_retry_callback`, `on_skipped_callback`): each a callable or a list of them, called with the
try's context (with `exception` when the try raised one). A callback that raises is written to the
try's log and changes nothing of the try's outcome, as in Airflow."""

from __future__ import annotations

import traceback
from typing import Any

from ledgerflow.engine.authoring.airflow.context_access import current_context


def _callables(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def run_callbacks(task: Any, kind: str, context: dict[str, Any], exception: BaseException | None = None) -> None:
    """Runs the task's on_<kind>_callback(s); the try's log is stdout here."""
    name = f"on_{kind}_callback"
    funcs = _callables(getattr(task, name, None))
    if not funcs:
        return
    if exception is not None:
        context = {**context, "exception": exception}
    with current_context(context):
        for func in funcs:
            try:
                func(context)
            except Exception:
                print(f"Error when executing {name} {getattr(func, '__name__', func)!s}:\n"
                      f"{traceback.format_exc()}", end="")
