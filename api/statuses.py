"""The HTTP status of each domain error, and its message in the API's words (shared with the web UI)."""

from __future__ import annotations

from typing import Any

import ledgerflow.engine.errors as errors

# the API's names for the domain's words in messages (engine.errors.Term)
NAMES = {
    "reason": "note (or the X-Ledgerflow-Reason header)", "run_id": "dag_run_id", "start_date_hint": "",
    "end_date_hint": "", "task_regex": "task_ids", "future": "include_future", "as_of": "as_of",
    "break_lineage": "break_lineage", "actor": "the authenticated user",
    "backfill_cancel": "wait for it to complete or cancel it: PUT /api/v2/backfills/{backfill_id}/cancel",
}
_STATUS: list[tuple[type[Exception], int]] = [
    (errors.NotAuthenticated, 401), (errors.Forbidden, 403), (errors.Throttled, 429), (errors.NotFound, 404),
    (errors.AlreadyExists, 409), (errors.Conflict, 409), (errors.ConcurrentModification, 409),
    (errors.InvalidInput, 400),
    (errors.DatabaseUnavailable, 503), (errors.ViewsStuck, 503), (errors.Interrupted, 503),
]


class _Keys(dict[str, str]):
    """A Term the API has no name for is said by its key, which is the field's name."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, key)


def detail(exc: errors.LedgerflowError) -> str:
    return exc.say(_Keys(NAMES))


def status_of(exc: Exception) -> int:
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
