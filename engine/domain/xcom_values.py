"""XCom values a try may push: JSON the store keeps as it is, at most LEDGERFLOW_XCOM_MAX_BYTES each
(default 64 KiB) so a run's events stay small; anything else fails the try, naming task, key and why."""

from __future__ import annotations

import json
import os
from typing import Any

from ledgerflow.engine.domain.values import json_document, text
from ledgerflow.engine.errors import BadValue, TryFailure

DEFAULT_MAX_BYTES = 64 * 1024


class XComRefused(TryFailure):
    pass


def max_bytes() -> int:
    raw = os.environ.get("LEDGERFLOW_XCOM_MAX_BYTES", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_BYTES


def checked(task_id: str, key: Any, value: Any) -> Any:
    """The value as it will be stored (a tuple becomes a list), or XComRefused."""
    what = f"XCom {key!r} of task {task_id!r}"
    if not isinstance(key, str) or not key:
        raise XComRefused(f"{what}: the key must be non-empty text")
    try:
        text(key, what)
        json_document(value, what)
    except BadValue as exc:
        raise XComRefused(f"{exc} (XCom values are JSON)") from None
    encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    size = len(encoded.encode("utf-8"))
    if size > max_bytes():
        raise XComRefused(f"{what} is {size} bytes of JSON, over the limit of {max_bytes()} "
                          f"(LEDGERFLOW_XCOM_MAX_BYTES)")
    return json.loads(encoded)
