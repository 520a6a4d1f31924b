"""How a worker is stopped without losing a try that already ended.

The driver stops a worker with SIGTERM. While the task's own code runs, the stop
raises TryStopped there (the try did not end: it is interrupted, and runs again
later); once that code has returned, the stop only waits until the outcome is kept
and reported, and then the worker ends.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any


class TryStopped(BaseException):
    """Not an Exception: a task's `except Exception` must not record a stop as its failure."""


class _Stop:
    armed = False  # the task's own code is running
    asked = False


def _on_stop(*_: Any) -> None:
    _Stop.asked = True
    if _Stop.armed:
        raise TryStopped


def install() -> None:
    """In a worker process: SIGTERM becomes a stop."""
    signal.signal(signal.SIGTERM, _on_stop)


def asked() -> bool:
    return _Stop.asked


def reset() -> None:
    """A process that outlives a stopped try (a Celery worker's) runs its next try as usual."""
    _Stop.asked = False


@contextlib.contextmanager
def stoppable() -> Iterator[None]:
    """The block is the try itself: a stop interrupts it; before or after it, a stop waits."""
    if _Stop.asked:
        raise TryStopped
    _Stop.armed = True
    try:
        yield
    finally:
        _Stop.armed = False
