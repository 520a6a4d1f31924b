"""A TaskJob as JSON, the only form in which it crosses the broker (no pickles from the network)."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from ledgerflow.engine.domain.dates import from_iso
from ledgerflow.engine.runtime.jobs import TaskJob, TaskResult
from ledgerflow.engine.runtime.prev_success import PrevSuccess

_DATES = tuple(f.name for f in fields(TaskJob) if f.type in ("datetime", datetime))


def to_wire(job: TaskJob) -> dict[str, Any]:
    wire = asdict(job)
    for name in _DATES:
        wire[name] = wire[name].isoformat()
    return wire


def from_wire(wire: dict[str, Any]) -> TaskJob:
    known = {f.name for f in fields(TaskJob)}
    values = {k: v for k, v in wire.items() if k in known}
    for name in _DATES:
        values[name] = from_iso(values[name])
    if values.get("prev_success"):
        values["prev_success"] = PrevSuccess(**values["prev_success"])
    return TaskJob(**values)


def result_to_wire(result: TaskResult) -> dict[str, Any]:
    wire = asdict(result)
    wire["key"], wire["skip"] = list(result.key), list(result.skip)
    return wire


def result_from_wire(wire: dict[str, Any]) -> TaskResult:
    known = {f.name for f in fields(TaskResult)}
    values = {k: v for k, v in wire.items() if k in known}
    values["key"], values["skip"] = tuple(values["key"]), tuple(values.get("skip") or ())
    return TaskResult(**values)
