"""Which Airflow's semantics a DAG file gets: 3 when it imports `airflow.sdk`, else 2, unless
LEDGERFLOW_AIRFLOW_COMPAT=2|3 says otherwise. The mode is recorded with the DAG's fingerprint."""

from __future__ import annotations

import os

from ledgerflow.engine.errors import InvalidInput, Term

_sdk_imported = False  # by the DAG file loading now


def file_started() -> None:
    global _sdk_imported
    _sdk_imported = False


def sdk_imported() -> None:
    global _sdk_imported
    _sdk_imported = True


def current() -> int:
    forced = os.environ.get("LEDGERFLOW_AIRFLOW_COMPAT", "").strip()
    if forced:
        if forced not in ("2", "3"):
            raise InvalidInput(Term("LEDGERFLOW_AIRFLOW_COMPAT", "LEDGERFLOW_AIRFLOW_COMPAT"),
                               f" must be 2 or 3, not {forced!r}")
        return int(forced)
    return 3 if _sdk_imported else 2
