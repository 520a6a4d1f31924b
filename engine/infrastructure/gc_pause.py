"""A scoped pause of the cyclic garbage collector, for hot loops that create no cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Folding and clearing allocate many small objects that form no cycles (rows, payload
    dicts, task instances); reference counting frees them, and the cyclic collector would
    only walk them again every few hundred allocations. Restored on exit, so a long-lived
    process (a server) keeps collecting."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
