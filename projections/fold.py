"""Folds raw notifications (topic + JSON payload) into run, pool and operation states.

The same fold serves incremental catch-up, full rebuilds and as-of reads; it
decodes the stored JSON directly instead of reconstructing event objects, which
keeps replay fast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ledgerflow.engine.domain.dag_pause import paused_after
from ledgerflow.engine.domain.run_state import RunState, evolve, run_event
from ledgerflow.projections import users as user_views
from ledgerflow.projections.audit import entity_entry
from ledgerflow.projections.audit import entries as audit_entries
from ledgerflow.projections.backfill_view import BackfillEvent


@cache
def split_topic(topic: str) -> tuple[str, str]:
    """'engine.dagrun:DagRun.Created' -> ('DagRun', 'Created')."""
    qualname = topic.rpartition(":")[2]
    aggregate, _, kind = qualname.rpartition(".")
    return aggregate, kind


def decode(state: str | bytes | memoryview) -> dict[str, Any]:
    """The payload; the projector reads it already as text (decoded by the server)."""
    return json.loads(state if isinstance(state, str) else bytes(state))


def timestamp_of(payload: dict[str, Any]) -> str:
    return payload["timestamp"]["_data_"]


@dataclass
class Folded:
    """States touched by a batch of notifications, with the versions they reached.

    Keyed by the text form of the originator uuid, as the projector reads it.
    """

    runs: dict[str, RunState] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    dirty_tis: dict[str, set[str]] = field(default_factory=dict)
    pools: dict[str, int] = field(default_factory=dict)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit: list[str] = field(default_factory=list)  # COPY lines, see projections.audit
    pauses: dict[str, bool] = field(default_factory=dict)
    backfills: list[BackfillEvent] = field(default_factory=list)

    def apply(self, originator_id: str, version: int, topic: str, payload: dict[str, Any],
              position: int = 0, recorded_at: Any = None) -> None:
        """position > 0 also derives the audit entries of the event."""
        aggregate, kind = split_topic(topic)
        if aggregate == "DagRun":
            run = evolve(self.runs.get(originator_id), kind, payload)
            self.runs[originator_id] = run
            self.versions[originator_id] = version
            dirty = self.dirty_tis.setdefault(originator_id, set())
            if run_event(kind).adds_tasks:
                dirty.update(run.tis)
            elif "changes" in payload:
                dirty.update(c["task_id"] for c in payload["changes"])
            if position:
                at = recorded_at or timestamp_of(payload)
                self.audit.extend(audit_entries(kind, payload, run, position, at))
        elif aggregate == "Pool":
            self.pools[payload["name"]] = payload["slots"]
        elif aggregate == "Operation":
            self._fold_operation(originator_id, kind, payload)
        elif aggregate in user_views.AGGREGATES:
            user_views.fold(self.users, kind, payload, timestamp_of(payload))
            if position:
                self.audit.append(user_views.audit_line(kind, payload, position, recorded_at or timestamp_of(payload)))
        elif aggregate == "DagPause":
            paused = paused_after(kind, payload)
            self.pauses[payload["dag_id"]] = paused
            if position:
                self.audit.append(entity_entry(f"Dag.{kind}", payload, payload["dag_id"], position,
                                               recorded_at or timestamp_of(payload),
                                               "paused" if paused else "unpaused"))
        elif aggregate == "Backfill":
            self._fold_backfill(originator_id, kind, payload, position, recorded_at)

    def _fold_backfill(self, uid: str, kind: str, payload: dict[str, Any], position: int, recorded_at: Any) -> None:
        at = timestamp_of(payload)
        self.backfills.append((uid, kind, payload, at))
        if position:
            to_state = {"Created": "running", "Paused": "paused", "Unpaused": "running",
                        "Cancelled": "cancelled", "Completed": "completed"}[kind]
            details = {"backfill_id": payload["number"]}
            if kind == "Created":
                details.update({k: payload[k] for k in ("from_date", "to_date", "reprocess_behavior",
                                                        "max_active_runs", "run_backwards", "dag_run_conf")})
            self.audit.append(entity_entry(f"Backfill.{kind}", payload, payload["dag_id"], position, recorded_at or at,
                                           to_state, details))

    def _fold_operation(self, op_id: str, kind: str, payload: dict[str, Any]) -> None:
        if kind == "Started":
            self.operations[op_id] = {
                "name": payload["name"],
                "arguments": payload["arguments"],
                "actor": payload["actor"],
                "reason": payload["reason"],
                "host": payload["host"],
                "ledgerflow_version": payload["ledgerflow_version"],
                "started_at": timestamp_of(payload),
            }
        elif kind == "Ended":
            self.operations.setdefault(op_id, {}).update(
                ended_at=timestamp_of(payload), outcome=payload["outcome"], summary=payload["summary"]
            )
