"""Creates the event store tables and applies sql/*.sql once each, in order, all under one advisory lock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventsourcing.postgres import PostgresTrackingRecorder

from ledgerflow.engine.infrastructure import roles
from ledgerflow.engine.infrastructure.database import resolve_url
from ledgerflow.engine.infrastructure.locks import MIGRATIONS_KEY, release
from ledgerflow.engine.infrastructure.store import TRACKING_TABLE, Ledger


def sql_dir() -> Path:
    """sql/ is the package's `ledgerflow/sql`: the checkout's sql/ folder in an editable install."""
    return Path(__file__).resolve().parents[2] / "sql"


def migrations() -> list[tuple[int, str, str]]:
    found = []
    for path in sorted(sql_dir().glob("*.sql")):
        match = re.match(r"(\d+)_(.+)\.sql$", path.name)
        if match:
            found.append((int(match.group(1)), match.group(2), path.read_text()))
    return found


def latest_version() -> int:
    return max(v for v, _, _ in migrations())


def applied_versions(ledger: Ledger) -> list[tuple[int, str, str]]:
    with ledger.cursor() as curs:
        curs.execute("SELECT to_regclass('ledgerflow_schema') AS t")
        row = curs.fetchone()
        if row is None or row["t"] is None:
            return []
        curs.execute("SELECT version, name, applied_at::text AS applied_at FROM ledgerflow_schema ORDER BY version")
        return [(r["version"], r["name"], r["applied_at"]) for r in curs.fetchall()]


def is_current(ledger: Ledger) -> bool:
    applied = applied_versions(ledger)
    return bool(applied) and applied[-1][0] >= latest_version()


@contextmanager
def _schema_lock(setup: Ledger) -> Iterator[Any]:
    """A session holding the migrations lock, with the library's own tables made under it: two first
    commands on a fresh database would otherwise both create them (a duplicate pg_type row)."""
    with setup.datastore.get_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATIONS_KEY,))
        try:
            setup.recorder.create_table()
            PostgresTrackingRecorder(setup.datastore, tracking_table_name=TRACKING_TABLE).create_table()
            yield conn
        finally:
            release(conn, "SELECT pg_advisory_unlock(%s)", (MIGRATIONS_KEY,))


def migrate(url: str | None = None) -> list[str]:
    """Idempotent: returns the names of the migrations applied by this call. Grants the app role its
    privileges (roles.py) each time, so tables of new migrations get them too."""
    setup = Ledger(url or resolve_url(admin=True))
    applied: list[str] = []
    try:
        with _schema_lock(setup) as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute(
                "CREATE TABLE IF NOT EXISTS ledgerflow_schema (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            curs.execute("SELECT version FROM ledgerflow_schema")
            done = {r["version"] for r in curs.fetchall()}
            for version, name, text in migrations():
                if version in done:
                    continue
                curs.execute(text)
                curs.execute(
                    "INSERT INTO ledgerflow_schema (version, name) VALUES (%s, %s)", (version, name)
                )
                applied.append(f"{version:03d}_{name}")
            roles.set_up(curs)
    finally:
        setup.close()
    return applied


def open_ledger(url: str | None = None) -> Ledger:
    """The ledger, migrated on first use."""
    ledger = Ledger(url)
    if not is_current(ledger):
        migrate(url)  # None: as the owner (on the embedded server not the commands' role)
    return ledger
