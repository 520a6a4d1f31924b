"""Task instances a finished try skipped (a branch not followed, a short-circuit), as changes of its run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledgerflow.engine.domain.run_state import RunState, ti_change


def skipped_by(run: RunState, task_id: str, skip: Iterable[str]) -> list[dict[str, Any]]:
    """Only task instances that have not started: the skip decides what is yet to run."""
    return [ti_change(t, run.tis[t], "skipped", skipped_by=task_id)
            for t in skip if t in run.tis and run.tis[t].state is None]
