"""Part of `audit verify`: every stored try log against the SHA-256 its finishing event records.

The event is hashed into the chain; the log (compressed in task_log) is not, so a log edited
in place is found by hashing its text again and comparing with the event. A try whose log is
not stored (recorded before logs were kept in the database) is no discrepancy.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

from psycopg import Cursor
from psycopg.rows import tuple_row

from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.topics import topic_of
from ledgerflow.engine.domain.view_check import Discrepancy, ViewCheck
from ledgerflow.engine.infrastructure.store import EVENTS_TABLE

_RECORDED = (
    "SELECT r.dag_id, r.run_id, c->>'task_id' AS task_id, (c->>'try_number')::int AS try_number, "
    "c->>'log_sha256' AS recorded, l.sha256 AS stored, l.content FROM {events} e "
    "CROSS JOIN LATERAL jsonb_array_elements(convert_from(e.state, 'UTF8')::jsonb -> 'changes') c "
    "JOIN task_log l ON l.run_uuid = e.originator_id AND l.task_id = c->>'task_id' "
    "AND l.try_number = (c->>'try_number')::int "
    "LEFT JOIN dag_run r ON r.run_uuid = e.originator_id "
    "WHERE e.topic = %s AND c->>'log_sha256' IS NOT NULL AND e.notification_id <= %s"
)


def check_logs(curs: Cursor[Any], check: ViewCheck) -> None:
    """Adds a discrepancy for each stored log whose text does not hash to what its event recorded."""
    topic = topic_of(DagRun.TaskInstancesChanged)
    checked = 0
    with curs.connection.cursor(name="lf_check_logs", row_factory=tuple_row) as rows:
        rows.itersize = 500
        rows.execute(_RECORDED.format(events=EVENTS_TABLE), (topic, check.position))
        for dag_id, run_id, task_id, try_number, recorded, stored, content in rows:
            checked += 1
            where = f"dag {dag_id} run {run_id} task {task_id} try {try_number}"
            if hashlib.sha256(zlib.decompress(content)).hexdigest() != recorded:
                check.add(Discrepancy("task_log", where, "content",
                                      f"the stored log does not hash to the SHA-256 its event records "
                                      f"({recorded[:12]}...)"))
            elif stored != recorded:
                check.add(Discrepancy("task_log", where, "sha256", "the stored log's SHA-256 is not its event's"))
    check.rows["task_log"] = checked
