"""Regular expressions users give (task and DAG selections): compiled once, refused clearly."""

from __future__ import annotations

import re

from ledgerflow.engine.errors import InvalidInput, Term


def compile_pattern(text: str, what: str = "task_regex") -> re.Pattern[str]:
    """An unanchored search pattern, as Airflow matches task and DAG ids; `what` names it (a Term)."""
    try:
        return re.compile(text)
    except re.error as exc:
        raise InvalidInput("invalid ", Term(what), f" {text!r}: {exc}") from None
