"""A try run so that its outcome outlives whatever kills its driver.

The try is claimed for as long as it runs, and its outcome is kept in the try
journal before it is reported; the driver appends it and then forgets it, and a
driver that died leaves it for the next one (see recovery). Both executors run
tries through here, the local one in forked workers that outlive a killed driver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from ledgerflow.engine.infrastructure import try_journal
from ledgerflow.engine.runtime.jobs import TaskJob, TaskResult
from ledgerflow.engine.runtime.worker import execute


def run_kept(job: TaskJob, driver_alive: Callable[[], bool] = lambda: True) -> TaskResult | None:
    """The try's result, kept before it is returned; None when its driver died before it began
    (the claim, taken first, tells the next driver whether the try may still run)."""
    key = job.try_key
    with try_journal.claimed(key):
        if not driver_alive():
            return None
        result = execute(job)
        try_journal.keep(key, {"stamp": job.stamp, "retries": job.retries, "result": asdict(result)})
    return result
