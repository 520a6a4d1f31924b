"""What ids may hold: dag and task ids (the DAG API), run ids given with a trigger (DESIGN.md).

Each id names a folder of task logs, so one with a `/`, or that is `.` or `..`,
would put them outside LEDGERFLOW_HOME/logs.
"""

from __future__ import annotations

import re

from ledgerflow.engine.errors import InvalidInput, Term

RUN_ID_MAX_LENGTH = 250
_PLAIN = re.compile(r"[A-Za-z0-9_.\-]+")
_RUN_ID = re.compile(r"[A-Za-z0-9._:+~-]+")
_NOT_NAMES = (".", "..")


def is_plain_id(value: str | None) -> bool:
    """A dag or task id: letters, digits, _ . - (and not `.` or `..` alone)."""
    return value is not None and value not in _NOT_NAMES and _PLAIN.fullmatch(value) is not None


def check_run_id(run_id: str) -> str:
    """The run id, or InvalidInput saying what a run id may hold."""
    if len(run_id) > RUN_ID_MAX_LENGTH:
        raise InvalidInput("invalid ", Term("run_id"), f" {run_id[:40]!r}...: at most {RUN_ID_MAX_LENGTH} characters, "
                           f"not {len(run_id)}")
    if not _RUN_ID.fullmatch(run_id) or run_id in _NOT_NAMES:
        raise InvalidInput("invalid ", Term("run_id"), f" {run_id!r}: use letters, digits and . _ : + - ~ "
                           f"(not . or .. alone)")
    return run_id
