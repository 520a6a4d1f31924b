"""Each try's log in PostgreSQL, compressed: any machine shows any try's log.

Whoever records a try's outcome stores its log first (a local driver from the file its
worker wrote, a Celery worker its own), so a log is never missing behind an outcome.
A log is stored once per try: the first copy stays, as the finishing event's SHA-256
names it.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import Cursor

from ledgerflow.engine.infrastructure import settings

INSERT = ("INSERT INTO task_log (run_uuid, task_id, try_number, sha256, hostname, content) "
           "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING")


@dataclass(frozen=True)
class TryLog:
    """Where one try's log file is on this machine."""

    run_uuid: str
    task_id: str
    try_number: int
    path: str


def row_of(log: TryLog, data: bytes) -> tuple[Any, ...]:
    return (log.run_uuid, log.task_id, log.try_number, hashlib.sha256(data).hexdigest(), settings.hostname(),
            zlib.compress(data, 6))


def here(logs: Iterable[TryLog]) -> list[tuple[Any, ...]]:
    """The rows of the logs whose files are on this machine (a try run elsewhere stored its own)."""
    rows = []
    for log in logs:
        try:
            data = Path(log.path).read_bytes() if log.path else None
        except OSError:
            data = None
        if data is not None:
            rows.append(row_of(log, data))
    return rows


def store(curs: Cursor[Any], rows: list[tuple[Any, ...]]) -> None:
    """Stores these log rows (see `here`); a try's first stored log stays."""
    if rows:
        curs.executemany(INSERT, rows)


def read(curs: Cursor[Any], run_uuid: Any, task_id: str, try_number: int) -> tuple[str, str] | None:
    """(text, sha256) of a stored log, or None."""
    curs.execute("SELECT content, sha256 FROM task_log WHERE run_uuid = %s AND task_id = %s AND try_number = %s",
                 (run_uuid, task_id, try_number))
    row = curs.fetchone()
    if row is None:
        return None
    content, sha = (row["content"], row["sha256"]) if isinstance(row, dict) else row
    return zlib.decompress(content).decode(errors="replace"), sha
