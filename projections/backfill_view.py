"""The backfill, backfill_date and dag_pause views: written from the events a batch folded.

Backfill events are applied in order as SQL (a Created row per backfill and per date,
later events update them), so a batch never needs a backfill's earlier state.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import Cursor

from ledgerflow.engine.domain.backfill_state import CANCELLED

BackfillEvent = tuple[str, str, dict[str, Any], str]  # (uuid, kind, payload, event time)


def write(curs: Cursor[Any], pauses: dict[str, bool], events: list[BackfillEvent]) -> None:
    for dag_id, paused in pauses.items():
        curs.execute("INSERT INTO dag_pause (dag_id, is_paused) VALUES (%s, %s) "
                     "ON CONFLICT (dag_id) DO UPDATE SET is_paused = EXCLUDED.is_paused", (dag_id, paused))
    for uid, kind, d, at in events:
        if kind == "Created":
            _created(curs, uid, d, at)
            continue
        sets = {"Paused": "is_paused = true, state = 'paused'",
                "Unpaused": "is_paused = false, state = 'running', driver = %(driver)s",
                "Cancelled": "is_paused = false, state = 'cancelled', completed_at = %(at)s",
                "Completed": "is_paused = false, state = 'completed', completed_at = %(at)s"}[kind]
        curs.execute(f"UPDATE backfill SET {sets} WHERE backfill_uuid = %(uid)s",
                     {"uid": uid, "at": at, "driver": d.get("driver")})
        if kind == "Cancelled" and d["skipped"]:
            curs.execute("UPDATE backfill_date SET decision = %s WHERE backfill_id = "
                         "(SELECT id FROM backfill WHERE backfill_uuid = %s) AND logical_date = ANY(%s::timestamptz[])",
                         (CANCELLED, uid, d["skipped"]))


def _created(curs: Cursor[Any], uid: str, d: dict[str, Any], at: str) -> None:
    curs.execute(
        "INSERT INTO backfill (id, backfill_uuid, dag_id, from_date, to_date, reprocess_behavior, max_active_runs, "
        "run_backwards, dag_run_conf, is_paused, state, created_at, created_by, driver) VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, false, 'running', %s, %s, %s)",
        (d["number"], uid, d["dag_id"], d["from_date"], d["to_date"], d["reprocess_behavior"], d["max_active_runs"],
         d["run_backwards"], None if d["dag_run_conf"] is None else json.dumps(d["dag_run_conf"], sort_keys=True),
         at, d["actor"], d["driver"]))
    with curs.copy("COPY backfill_date (backfill_id, logical_date, run_id, decision, base_version) FROM STDIN") as copy:
        for ld, run_id, why, base in d["dates"]:
            copy.write_row((d["number"], ld, run_id, why, base))
