"""How long an Airflow task waits before its next try: `retry_delay`, grown exponentially with
`retry_exponential_backoff` and capped by `max_retry_delay` (and by Airflow's `max_task_retry_delay`,
a day unless `AIRFLOW__CORE__MAX_TASK_RETRY_DELAY` says otherwise).

With backoff the n-th retry waits between base and twice base, base = retry_delay x factor^(n-1)
(at least a second; factor 2, or the number given, as Airflow 3.3 allows); where in that range is
fixed by the task instance and try, so the same try always waits the same.
"""

from __future__ import annotations

import hashlib
import math
import os
from datetime import timedelta
from typing import Any

_DAY = 86400.0


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _factor(backoff: Any) -> float:
    if backoff is True:
        return 2.0
    if not backoff:
        return 0.0
    return float(backoff)


def retry_wait(task: Any, failed_try: int, run_key: str) -> timedelta:
    """The wait after try `failed_try` (1 for the first) of the task in the run named by run_key."""
    delay = task.retry_delay
    factor = _factor(getattr(task, "retry_exponential_backoff", False))
    if factor > 0:
        cap = float(os.environ.get("AIRFLOW__CORE__MAX_TASK_RETRY_DELAY") or _DAY)
        base = max(1, math.ceil(delay.total_seconds() * factor ** (failed_try - 1)))
        digest = hashlib.sha256(f"{task.dag.dag_id}#{task.task_id}#{run_key}#{failed_try}".encode()).digest()
        delay = timedelta(seconds=min(base + int.from_bytes(digest[:8], "big") % base, cap))
    limit = getattr(task, "max_retry_delay", None)
    if limit is not None:
        delay = min(delay, timedelta(seconds=_seconds(limit)))
    return delay
