"""Keeps the SQL views caught up with the notification log, exactly once.

Each batch of notifications is folded in memory and written together with the
new tracking position in one transaction, under an advisory lock, so two
processes catching up at once never apply a notification twice; a replay over rows that
already hold an event (a tracking row moved back) skips it, so it never folds twice either
(see POSITION and fold_notifications). An event that
cannot be folded stops the views just before it (projections.unfoldable), with
everything before it applied, and is named by its position (ViewsStuck).
"""

from __future__ import annotations

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
from ledgerflow.projections import audit
from ledgerflow.projections.fold import Folded, decode, split_topic
from ledgerflow.projections.rows import RUN_COLUMNS, add_task_instances, run_from_row
from ledgerflow.projections.unfoldable import apply_foldable, caused_by_the_events, problem
from ledgerflow.projections.view_writes import write_views

VIEWS = "views"
BATCH = 50_000
# the batch reads run uuids as text (see _BATCH), so the runs it touches are keyed so too
_TOUCHED = (f"SELECT run_uuid::text AS run_uuid, {', '.join(RUN_COLUMNS[1:])} FROM dag_run "
            f"WHERE run_uuid = ANY(%s::uuid[])")


# The views hold every event up to their tracking row and up to the event of their last audit
# entry (both are written in one transaction), so a tracking row moved back or deleted never
# replays an event into duplicate entries: the catch-up resumes after the later of the two.
POSITION = (f"greatest((SELECT notification_id FROM ledgerflow_tracking WHERE application_name = "
            f"'{VIEWS}'), (SELECT position FROM audit_entry ORDER BY seq DESC LIMIT 1), 0)")


def position(curs: Cursor[Any]) -> int:
    curs.execute(f"SELECT {POSITION} AS notification_id")
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
# a replay that stops at a position (the views check); a bound of its own, as one more
# condition costs the catch-up's plan about a tenth of its speed
_BATCH_UNTIL = _BATCH.replace(" ORDER BY", " AND e.notification_id <= %(until)s ORDER BY", 1)


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
    first: dict[str, int] = {}  # the first version of each such run in the batch
    for row in rows:
        oid, topic = row[1], row[3]
        if oid in known or "DagRun." not in topic:
            continue
        spec = run_event(split_topic(topic)[1])
        if spec.creates:
            known.add(oid)
            continue
        first.setdefault(oid, row[2])
        if spec.self_contained:  # folding it needs the run's row, not its other task instances
            missing.setdefault(oid, False)
        else:
            missing[oid] = True
    load(list(missing), {oid for oid, tis in missing.items() if tis})
    versions = folded.versions
    if any(versions.get(oid, 0) >= version for oid, version in first.items()):
        # a replay over rows that already hold some of these events: each is folded once only
        rows = [r for r in rows if r[1] not in first or r[2] > versions.get(r[1], 0)]
    apply = folded.apply
    with meanwhile or nullcontext():
        for position, oid, version, topic, state, recorded_at in rows:
            apply(oid, version, topic, decode(state), position, recorded_at)


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
    write_views(curs, folded)
    audit.write(curs, folded.audit)
    _track(curs, rows[-1][0])


def _empty(curs: Cursor[Any]) -> None:
    curs.execute("TRUNCATE task_instance, dag_run, pool, operation, audit_entry, app_user, dag_pause, backfill, "
                 "backfill_date")
    curs.execute("DELETE FROM ledgerflow_tracking WHERE application_name = %s", (VIEWS,))


class ViewProjector:
    """Folds notifications into dag_run, task_instance, pool, operation, app_user and audit_entry."""

    def __init__(self, ledger: Ledger, batch: int = BATCH) -> None:
        self.ledger = ledger
        self.batch = batch

    def catch_up(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Applies every new notification; returns how many were applied (ViewsStuck: all up
        to the one named, which cannot be folded).

        Views already caught up are seen without the lock, so concurrent reads (the HTTP API's)
        never queue behind one another; a notification committed after that look is one the
        reader's own writes did not make."""
        if not self._behind():
            return 0
        try:
            with self.ledger.transaction() as curs:
                curs.execute("SELECT pg_advisory_xact_lock(%s)", (VIEWS_KEY,))
                return self._apply_new(curs, progress)
        except Exception as exc:
            if not caused_by_the_events(exc):
                raise
        return self._apply_foldable(progress, rebuild=False)

    def _behind(self) -> bool:
        """Whether an event lies past the views' position: the newest event's id against it, one step down the
        notification index (an EXISTS over `notification_id > position` was planned as a scan of the log)."""
        with self.ledger.cursor() as curs:
            curs.execute(f"SELECT (SELECT max(notification_id) FROM {EVENTS_TABLE}) > {POSITION} AS behind")
            row = curs.fetchone()
        return bool(row and row["behind"])

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

    def replay(self, curs: Cursor[Any], until: int) -> int:
        """Applies the notifications up to `until` in the caller's transaction, to whichever
        tables its unqualified names find (the views check folds into its own)."""
        return self._apply_new(curs, None, until)

    def _apply_new(self, curs: Cursor[Any], progress: Callable[[int, int], None] | None,
                   until: int | None = None) -> int:
        with no_cycle_collection():
            return self._apply_batches(curs, progress, until)

    def _apply_batches(self, curs: Cursor[Any], progress: Callable[[int, int], None] | None,
                       until: int | None) -> int:
        applied = 0
        start = position(curs)
        query = _BATCH if until is None else _BATCH_UNTIL
        batch = _batch_cursor(curs)
        pending: list[str] = []  # audit lines of the previous batch
        while True:
            batch.execute(query, {"after": start, "until": until, "limit": self.batch})
            rows = batch.fetchall()
            if not rows:
                audit.write(curs, pending)
                return applied
            folded = Folded()
            # the server stores the previous batch's audit entries while this one folds
            fold_notifications(rows, folded, partial(_load_runs, curs, folded=folded),
                               audit.sending(curs, pending))
            write_views(curs, folded)
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
