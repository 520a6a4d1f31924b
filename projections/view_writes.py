"""The projector's writes of one folded batch: runs and task instances by COPY, then upserts.

A batch's runs and task instances are copied into temporary tables and merged into the
views with one upsert each. An operation already in the view is left as it is, so
folding an event again (see projector.POSITION) never fails on a duplicate key.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import Cursor

from ledgerflow.projections import backfill_view, users
from ledgerflow.projections.fold import Folded
from ledgerflow.projections.rows import RUN_COLUMNS


def write_views(curs: Cursor[Any], folded: Folded) -> None:
    """Upserts the runs, task instances, pools, users and operations a batch touched."""
    if folded.runs:
        curs.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _run (LIKE dag_run) ON COMMIT DELETE ROWS;"
            "CREATE TEMP TABLE IF NOT EXISTS _ti (LIKE task_instance) ON COMMIT DELETE ROWS;"
            # a rebuild or a long catch-up writes many batches in one transaction: each batch
            # upserts only its own rows
            "TRUNCATE _run, _ti"
        )
        with curs.copy(f"COPY _run ({', '.join(RUN_COLUMNS)}) FROM STDIN") as copy:
            for uid, run in folded.runs.items():
                copy.write_row((
                    uid, folded.versions[uid], run.dag_id, run.run_id, run.logical_date,
                    run.data_interval_start, run.data_interval_end, run.run_type, run.state,
                    json.dumps(run.conf, sort_keys=True), run.dag_fingerprint, run.clear_number,
                ))
        with curs.copy("COPY _ti (run_uuid, task_id, state, try_number, max_tries, hostname) FROM STDIN") as copy:
            for uid, task_ids in folded.dirty_tis.items():
                tis = folded.runs[uid].tis
                for tid in task_ids:
                    ti = tis[tid]
                    copy.write_row((uid, tid, ti.state, ti.try_number, ti.max_tries, ti.hostname))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in RUN_COLUMNS[1:])
        curs.execute(
            f"INSERT INTO dag_run SELECT * FROM _run ON CONFLICT (run_uuid) DO UPDATE SET {updates}"
        )
        curs.execute(
            "INSERT INTO task_instance SELECT * FROM _ti ON CONFLICT (run_uuid, task_id) DO UPDATE "
            "SET state = EXCLUDED.state, try_number = EXCLUDED.try_number, "
            "max_tries = EXCLUDED.max_tries, hostname = EXCLUDED.hostname"
        )
    for name, slots in folded.pools.items():
        curs.execute(
            "INSERT INTO pool (name, slots) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET slots = EXCLUDED.slots",
            (name, slots),
        )
    users.write(curs, folded.users)
    backfill_view.write(curs, folded.pauses, folded.backfills)
    for op_id, op in folded.operations.items():
        if "name" in op:
            curs.execute(
                "INSERT INTO operation (operation_id, name, arguments, actor, reason, host, "
                "ledgerflow_version, started_at, ended_at, outcome, summary) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (operation_id) DO NOTHING",
                (op_id, op["name"], json.dumps(op["arguments"]), op["actor"], op["reason"],
                 op["host"], op["ledgerflow_version"], op["started_at"], op.get("ended_at"),
                 op.get("outcome"), json.dumps(op["summary"]) if "summary" in op else None),
            )
        else:
            curs.execute(
                "UPDATE operation SET ended_at = %s, outcome = %s, summary = %s "
                "WHERE operation_id = %s",
                (op["ended_at"], op["outcome"], json.dumps(op["summary"]), op_id),
            )
