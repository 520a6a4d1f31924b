"""The views against a fresh fold of the events: what `audit verify` adds to the hash chain.

The views are disposable tables, so editing them (an audit entry's actor, a task
instance's state) breaks no hash: it is found by folding the events again and
comparing. The fold is the projector's own, run in one repeatable-read snapshot into
temporary tables of the views' names: PostgreSQL looks a session's temporary schema
up first, so the projector's unqualified SQL writes there. The transaction is always
rolled back, so nothing is left, and the views are read at their own position, so
events appended meanwhile are no discrepancy. Each view is then compared with one full
join on its key, in the server.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import Cursor, sql

from ledgerflow.engine.domain.view_check import Discrepancy, ViewCheck
from ledgerflow.engine.infrastructure.store import Ledger
from ledgerflow.engine.infrastructure.stored_runs import head
from ledgerflow.projections.log_check import check_logs
from ledgerflow.projections.projector import VIEWS, ViewProjector, position
from ledgerflow.projections.unfoldable import caused_by_the_events, problem

# each view and its key; the tracking table and the other tables the fold writes are shadowed too, so the
# fold starts from nothing and never touches the real ones
KEYS: dict[str, tuple[str, ...]] = {
    "dag_run": ("run_uuid",),
    "task_instance": ("run_uuid", "task_id"),
    "pool": ("name",),
    "operation": ("operation_id",),
    "audit_entry": ("seq",),
}
_SHADOWED = {**KEYS, "ledgerflow_tracking": ("application_name",), "dag_pause": ("dag_id",), "backfill": ("id",),
             "backfill_date": ("backfill_id", "logical_date"), "app_user": ("username",)}
# the dag and run a task instance belongs to, from the fold, else from the view
_RUN_OF = ("(SELECT jsonb_build_object('dag_id', r.dag_id, 'run_id', r.run_id) FROM {runs} r "
           "WHERE r.run_uuid = coalesce(v.run_uuid, f.run_uuid))")
_VALUE_CHARS = 60
_KEY_CHARS = 600  # a dag id, a run id (at most 250 characters) and a task id


def check_views(ledger: Ledger) -> ViewCheck:
    """Folds the events up to the views' position again and compares every view with it."""
    with ledger.datastore.get_connection() as conn, conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with conn.cursor() as curs:
            at, top = position(curs), head(curs)
            check = ViewCheck(at, top)
            if at > top:
                check.add(Discrepancy("ledgerflow_tracking", VIEWS, "notification_id",
                                      f"the views claim position {at} but the log ends at {top}"))
            real = _shadow(curs)
            try:
                with conn.transaction():
                    ViewProjector(ledger).replay(curs, at)
            except Exception as exc:
                if not caused_by_the_events(exc):
                    raise
                check.add(Discrepancy("views", f"up to position {at}", "fold",
                                      f"the events up to position {at} cannot be folded "
                                      f"again: {problem(exc)}"))
                return check
            for view, table in real.items():
                _compare(curs, check, view, table)
            check_logs(curs, check)
    return check


def _shadow(curs: Cursor[Any]) -> dict[str, sql.Composable]:
    """Creates the empty temporary twins; returns the real views' qualified names."""
    real: dict[str, sql.Composable] = {}
    for name, key in _SHADOWED.items():
        curs.execute("SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n "
                     "ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)", (name,))
        row = curs.fetchone()
        assert row is not None, f"{name} is not in the database"  # migrated before any read
        table = sql.Identifier(row["schema"], name)
        curs.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
            sql.Identifier(name), table))
        curs.execute(sql.SQL("ALTER TABLE pg_temp.{} ADD PRIMARY KEY ({})").format(
            sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, key))))
        if name in KEYS:
            real[name] = table
    return real


def _compare(curs: Cursor[Any], check: ViewCheck, view: str, table: sql.Composable) -> None:
    key = KEYS[view]
    on = sql.SQL(" AND ").join(sql.SQL("v.{k} = f.{k}").format(k=sql.Identifier(k)) for k in key)
    first = sql.Identifier(key[0])
    run_of = (sql.SQL(_RUN_OF).format(runs=sql.SQL("pg_temp.dag_run")) if view == "task_instance"
              else sql.SQL("NULL::jsonb"))
    query = sql.SQL(
        "SELECT v.{first} IS NULL AS missing, f.{first} IS NULL AS extra, to_jsonb(v) AS v, "
        "to_jsonb(f) AS f, {run_of} AS run FROM {table} v FULL JOIN pg_temp.{name} f ON {on} "
        "WHERE v IS DISTINCT FROM f"
    ).format(first=first, run_of=run_of, table=table, name=sql.Identifier(view), on=on)
    curs.execute(sql.SQL("SELECT count(*) AS n FROM pg_temp.{}").format(sql.Identifier(view)))
    found = curs.fetchone()
    check.rows[view] = int(found["n"]) if found else 0
    with curs.connection.cursor(name=f"lf_check_{view}") as rows:
        rows.itersize = 2_000
        rows.execute(query)
        for row in rows:
            for found in _discrepancies(view, row):
                check.add(found)


def _discrepancies(view: str, row: dict[str, Any]) -> list[Discrepancy]:
    """One per column that differs, or one for a row only the view or only the events hold."""
    where = _key(view, row["v"] if row["extra"] else row["f"], row["run"])
    if row["missing"]:
        return [Discrepancy(view, where, "missing row", "in the events, missing from the view")]
    if row["extra"]:
        return [Discrepancy(view, where, "extra row", "in the view, from no event")]
    v, f = row["v"], row["f"]
    return [Discrepancy(view, where, column, f"{column} is {_shown(v.get(column))} in the view, "
                                             f"{_shown(f[column])} in the events")
            for column in f if v.get(column) != f[column]]


def _key(view: str, row: dict[str, Any], run: dict[str, Any] | None) -> str:
    if view == "audit_entry":
        parts = [f"seq {row['seq']}", f"position {row['position']}"]
        parts += [f"{k.removesuffix('_id')} {row[k]}" for k in ("dag_id", "run_id", "task_id")
                  if row.get(k) is not None]
    elif view == "dag_run":
        parts = [f"dag {row['dag_id']}", f"run {row['run_id']}"]
    elif view == "task_instance":
        parts = ([f"dag {run['dag_id']}", f"run {run['run_id']}"] if run
                 else [f"run_uuid {row['run_uuid']}"])
        parts.append(f"task {row['task_id']}")
    else:
        parts = [f"{KEYS[view][0]} {row[KEYS[view][0]]}"]
    return _shown(" ".join(str(p) for p in parts), quoted=False, chars=_KEY_CHARS)


def _shown(value: Any, *, quoted: bool = True, chars: int = _VALUE_CHARS) -> str:
    """A value in one line of at most `chars`, control characters escaped (as JSON does)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if not quoted:
        text = text[1:-1] if isinstance(value, str) else text
    return text if len(text) <= chars else text[:chars - 1] + "…"
