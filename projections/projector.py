"""Keeps the SQL views caught up with the notification log, exactly once.

Each batch of notifications is folded in memory and written together with the
new tracking position in one transaction, under an advisory lock, so two
processes catching up at once never apply a notification twice. An event that
cannot be folded stops the views just before it (projections.unfoldable), with
everything before it applied, and is named by its position (ViewsStuck).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from typing import Any

from psycopg import Cursor
from psycopg.rows import tuple_row
from psycopg.types.string import TextLoader

from ledgerflow.engine.audit.hashchain import CHAIN_TABLE
from ledgerflow.engine.domain.run_state import run_event
from ledgerflow.engine.errors import ViewsStuck
from ledgerflow.engine.infrastructure.gc_pause import no_cycle_collection
from ledgerflow.engine.infrastructure.locks import VIEWS_KEY
from ledgerflow.engine.infrastructure.store import EVENTS_TABLE, Ledger
from ledgerflow.engine.infrastructure.stored_runs import head
from ledgerflow.projections import audit, backfill_view
from ledgerflow.projections.fold import Folded, decode, split_topic
from ledgerflow.projections.rows import RUN_COLUMNS, add_task_instances, run_from_row
from ledgerflow.projections.unfoldable import apply_foldable, caused_by_the_events, problem

VIEWS = "views"
BATCH = 50_000
# the batch reads run uuids as text (see _BATCH), so the runs it touches are keyed so too
_TOUCHED = (f"SELECT run_uuid::text AS run_uuid, {', '.join(RUN_COLUMNS[1:])} FROM dag_run "
            f"WHERE run_uuid = ANY(%s::uuid[])")


def position(curs: Cursor[Any], name: str = VIEWS) -> int:
    curs.execute(
        "SELECT notification_id FROM ledgerflow_tracking WHERE application_name = %s", (name,)
    )
    row = curs.fetchone()
    return int(row["notification_id"]) if row else 0


def _load_runs(curs: Cursor[Any], ids: list[str], with_tis: set[str], *, folded: Folded) -> None:
    """Reads the current view state of runs a batch touches but did not create.

    Run ids are the text form of their uuids, as the batch reads them (see _BATCH). Task
    instances are read only for the runs in `with_tis` (see _SELF_CONTAINED).
    """
    if not ids:
        return
    curs.execute(_TOUCHED, (ids,))
    for row in curs.fetchall():
        folded.runs[row["run_uuid"]] = run_from_row(row)
        folded.versions[row["run_uuid"]] = row["version"]
    if with_tis:
        with _batch_cursor(curs) as tuples:
            add_task_instances(tuples, folded.runs, with_tis)


# One batch of notifications, as plain tuples in _BATCH's column order. The uuid and the
# recorded_at are kept as the server's text (see _batch_cursor) and the payload arrives as
# text, so no value is parsed that the fold does not need and the views' COPY writes back.
# The careful replay after a failure (_BATCH_AS_STORED) reads the payload as stored: one that is
# not UTF-8 is then the fault of its own event, not of the batch's query.
_BATCH_AS_STORED = (
    f"SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, "
    f"e.state, c.recorded_at FROM {EVENTS_TABLE} e "
    f"LEFT JOIN {CHAIN_TABLE} c ON c.notification_id = e.notification_id "
    f"AND c.notification_id > %(after)s "  # else the merge join reads the chain from its start
    f"WHERE e.notification_id > %(after)s ORDER BY e.notification_id LIMIT %(limit)s"
)
_BATCH = _BATCH_AS_STORED.replace("e.state,", "convert_from(e.state, 'UTF8'),", 1)


def _batch_cursor(curs: Cursor[Any]) -> Cursor[Any]:
    batch = curs.connection.cursor(row_factory=tuple_row)
    batch.adapters.register_loader("uuid", TextLoader)
    batch.adapters.register_loader("timestamptz", TextLoader)
    return batch


def fold_notifications(
    rows: list[tuple[Any, ...]], folded: Folded, load: Callable[[list[str], set[str]], None],
    meanwhile: AbstractContextManager[None] | None = None,
) -> None:
    """Folds (notification_id, originator_id, version, topic, state, recorded_at) rows.

    `meanwhile` wraps the pure-Python part, after the last database read.
    """
    known = set(folded.runs)
    missing: dict[str, bool] = {}  # run not created in this batch -> needs its task instances
    for row in rows:
        oid, topic = row[1], row[3]
        if oid in known or "DagRun." not in topic:
            continue
        spec = run_event(split_topic(topic)[1])
        if spec.creates:
            known.add(oid)
        elif spec.self_contained:  # folding it needs the run's row, not its other task instances
            missing.setdefault(oid, False)
        else:
            missing[oid] = True
    load(list(missing), {oid for oid, tis in missing.items() if tis})
    apply = folded.apply
    with meanwhile or nullcontext():
        for position, oid, version, topic, state, recorded_at in rows:
            apply(oid, version, topic, decode(state), position, recorded_at)


def _write(curs: Cursor[Any], folded: Folded) -> None:
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
        with curs.copy("COPY _ti (run_uuid, task_id, state, try_number, max_tries) FROM STDIN") as copy:
            for uid, task_ids in folded.dirty_tis.items():
                tis = folded.runs[uid].tis
                for tid in task_ids:
                    ti = tis[tid]
                    copy.write_row((uid, tid, ti.state, ti.try_number, ti.max_tries))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in RUN_COLUMNS[1:])
        curs.execute(
            f"INSERT INTO dag_run SELECT * FROM _run ON CONFLICT (run_uuid) DO UPDATE SET {updates}"
        )
        curs.execute(
            "INSERT INTO task_instance SELECT * FROM _ti ON CONFLICT (run_uuid, task_id) DO UPDATE "
            "SET state = EXCLUDED.state, try_number = EXCLUDED.try_number, "
            "max_tries = EXCLUDED.max_tries"
        )
    for name, slots in folded.pools.items():
        curs.execute(
            "INSERT INTO pool (name, slots) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET slots = EXCLUDED.slots",
            (name, slots),
        )
    backfill_view.write(curs, folded.pauses, folded.backfills)
    for op_id, op in folded.operations.items():
        if "name" in op:
            curs.execute(
                "INSERT INTO operation (operation_id, name, arguments, actor, reason, host, "
                "ledgerflow_version, started_at, ended_at, outcome, summary) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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


def _track(curs: Cursor[Any], last: int) -> None:
    curs.execute(
        "INSERT INTO ledgerflow_tracking (application_name, notification_id) "
        "VALUES (%s, %s) ON CONFLICT (application_name) "
        "DO UPDATE SET notification_id = EXCLUDED.notification_id",
        (VIEWS, last),
    )


def _apply_rows(curs: Cursor[Any], rows: Sequence[tuple[Any, ...]]) -> None:
    """Folds and writes rows with their audit entries at once, and moves the position past them."""
    folded = Folded()
    fold_notifications(list(rows), folded, partial(_load_runs, curs, folded=folded))
    _write(curs, folded)
    audit.write(curs, folded.audit)
    _track(curs, rows[-1][0])


def _empty(curs: Cursor[Any]) -> None:
    curs.execute("TRUNCATE task_instance, dag_run, pool, operation, audit_entry, dag_pause, backfill, backfill_date")
    curs.execute("DELETE FROM ledgerflow_tracking WHERE application_name = %s", (VIEWS,))


class ViewProjector:
    """Folds notifications into dag_run, task_instance, pool and operation."""

    def __init__(self, ledger: Ledger, batch: int = BATCH) -> None:
        self.ledger = ledger
        self.batch = batch

    def catch_up(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Applies every new notification; returns how many were applied (ViewsStuck: all up
        to the one named, which cannot be folded)."""
        try:
            with self.ledger.transaction() as curs:
                curs.execute("SELECT pg_advisory_xact_lock(%s)", (VIEWS_KEY,))
                return self._apply_new(curs, progress)
        except Exception as exc:
            if not caused_by_the_events(exc):
                raise
        return self._apply_foldable(progress, rebuild=False)

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Drops every view row and replays the whole log, atomically (ViewsStuck: up to the
        event named, which cannot be folded)."""
        try:
            with self.ledger.transaction() as curs:
                curs.execute("SELECT pg_advisory_xact_lock(%s)", (VIEWS_KEY,))
                _empty(curs)
                with audit.indexes_deferred(curs):
                    return self._apply_new(curs, progress)
        except Exception as exc:
            if not caused_by_the_events(exc):
                raise
        return self._apply_foldable(progress, rebuild=True)

    def _apply_foldable(self, progress: Callable[[int, int], None] | None, *, rebuild: bool) -> int:
        """After a failed batch: applies, and commits, every event before the first one that
        cannot be folded, then raises ViewsStuck naming it (returns when none fails now)."""
        applied, stuck = 0, None
        with self.ledger.transaction() as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (VIEWS_KEY,))
            if rebuild:
                _empty(curs)
            batch = _batch_cursor(curs)
            while stuck is None:
                batch.execute(_BATCH_AS_STORED, {"after": position(curs), "limit": self.batch})
                rows = batch.fetchall()
                if not rows:
                    break
                done, failure = apply_foldable(curs, rows, partial(_apply_rows, curs))
                applied += done
                if progress and done:
                    progress(applied, rows[done - 1][0])
                if failure is not None:
                    at, topic = rows[done][0], rows[done][3]
                    stuck = ViewsStuck(at, str(topic).rpartition(":")[2], problem(failure))
        if stuck is not None:
            raise stuck
        return applied

    def _apply_new(self, curs: Cursor[Any], progress: Callable[[int, int], None] | None) -> int:
        with no_cycle_collection():
            return self._apply_batches(curs, progress)

    def _apply_batches(self, curs: Cursor[Any], progress: Callable[[int, int], None] | None) -> int:
        applied = 0
        start = position(curs)
        batch = _batch_cursor(curs)
        pending: list[str] = []  # audit lines of the previous batch
        while True:
            batch.execute(_BATCH, {"after": start, "limit": self.batch})
            rows = batch.fetchall()
            if not rows:
                audit.write(curs, pending)
                return applied
            folded = Folded()
            # the server stores the previous batch's audit entries while this one folds
            fold_notifications(rows, folded, partial(_load_runs, curs, folded=folded),
                               audit.sending(curs, pending))
            _write(curs, folded)
            pending = folded.audit
            start = rows[-1][0]
            _track(curs, start)
            applied += len(rows)
            if progress:
                progress(applied, start)

    def status(self) -> dict[str, int]:
        with self.ledger.cursor() as curs:
            pos = position(curs)
            top = head(curs)
        return {"position": pos, "head": top, "lag": top - pos}
