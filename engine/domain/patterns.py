"""Regular expressions users give (task and DAG selections): compiled once, refused clearly."""

from __future__ import annotations

import re

from ledgerflow.engine.errors import InvalidInput


def compile_pattern(text: str, what: str = "--task-regex") -> re.Pattern[str]:
    """An unanchored search pattern, as Airflow matches task and DAG ids."""
    try:
        return re.compile(text)
    except re.error as exc:
        raise InvalidInput(f"invalid {what} {text!r}: {exc}") from None
