"""`audit export` and `audit verify --export`: a slice of the log that proves itself.

Each record carries the stored event byte for byte (its JSON state as text), the
instant it was recorded, the hash of the link before it and its own link hash,
so a reader with only the file can recompute every link. The readable columns
(event, actor, reason, operation) are checked against the event they summarise,
so they cannot be edited in the file either. The first record's prev_hash is the
anchor: it ties the slice to the log before it (all zeros when the slice starts
at the beginning); a digest taken from the database ties it to the log itself.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import chain
from typing import IO, Any
from uuid import UUID

from psycopg.rows import dict_row

from ledgerflow.engine.audit.hashchain import CHAIN_TABLE, GENESIS, Head, Walker, micros
from ledgerflow.engine.audit.verify import Report
from ledgerflow.engine.domain.dates import from_iso, iso
from ledgerflow.engine.errors import BadDigest, ChainBroken
from ledgerflow.engine.infrastructure.store import EVENTS_TABLE, Ledger

FIELDS = (
    "position", "recorded_at", "event", "actor", "reason", "operation_id", "operation",
    "originator_id", "originator_version", "topic", "state", "state_base64", "chain_version",
    "prev_hash", "hash",
)
_READABLE = ("event", "actor", "reason", "operation_id", "operation")


def _readable(originator_id: str, topic: str | None, state: bytes) -> dict[str, Any]:
    """What an auditor reads first, taken from the event itself."""
    try:
        payload = json.loads(state)
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    event = (topic or "").rpartition(":")[2]
    found = {"event": event, **{k: payload.get(k) for k in _READABLE[1:]}}
    if event.startswith("Operation."):  # an operation's own events: it is the operation
        found.update(operation_id=str(originator_id), operation=payload.get("name"))
    return found


def records(ledger: Ledger, since: datetime | None, until: datetime | None
            ) -> Iterator[dict[str, Any]]:
    """The linked events recorded in [since, until], oldest first."""
    with ledger.datastore.get_connection() as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # recorded_at never decreases along the chain: the time range is a position range
        bounds = conn.execute(
            "SELECT CASE WHEN %(since)s::timestamptz IS NULL THEN 0 ELSE "
            "ledgerflow_chain_cutoff(%(since)s::timestamptz - interval '1 microsecond') END AS lo, "
            "CASE WHEN %(until)s::timestamptz IS NULL THEN 9223372036854775807 ELSE "
            "ledgerflow_chain_cutoff(%(until)s::timestamptz) END AS hi",
            {"since": since, "until": until},
        ).fetchone()
        clause, params = "WHERE c.notification_id > %s AND c.notification_id <= %s", [
            bounds["lo"], bounds["hi"]]
        found = conn.execute(
            f"SELECT hash FROM {CHAIN_TABLE} WHERE notification_id <= %s "
            f"ORDER BY notification_id DESC LIMIT 1", [bounds["lo"]],
        ).fetchone()
        prev = bytes(found["hash"]) if found else GENESIS
        curs = conn.cursor(name="lf_export", row_factory=dict_row)
        curs.itersize = 5000
        curs.execute(
            f"SELECT c.notification_id, c.recorded_at, c.chain_version, c.hash, "
            f"e.originator_id, e.originator_version, e.topic, e.state "
            f"FROM {CHAIN_TABLE} c JOIN {EVENTS_TABLE} e USING (notification_id) {clause} "
            f"ORDER BY c.notification_id", params,
        )
        for row in curs:
            state = bytes(row["state"])
            try:
                text, b64 = state.decode(), None
            except UnicodeDecodeError:
                text, b64 = None, base64.b64encode(state).decode()
            yield {
                "position": row["notification_id"], "recorded_at": iso(row["recorded_at"]),
                **_readable(row["originator_id"], row["topic"], state),
                "originator_id": str(row["originator_id"]),
                "originator_version": row["originator_version"], "topic": row["topic"],
                "state": text, "state_base64": b64, "chain_version": row["chain_version"],
                "prev_hash": prev.hex(), "hash": bytes(row["hash"]).hex(),
            }
            prev = bytes(row["hash"])


def write(rows: Iterable[dict[str, Any]], out: IO[str], fmt: str) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
            count += 1
    else:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def read(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Records from a JSON-lines or CSV export (told apart by the first character), as the
    lines are read: the export is never held whole."""
    it = iter(lines)
    first = next(it, "")
    if not first.strip():
        return
    if first.lstrip().startswith("{"):
        for number, line in enumerate(chain([first], it), start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    raise BadDigest(f"export line {number} is not JSON") from None
        return
    for row in csv.DictReader(chain([first], it)):
        yield {k: (v if v != "" else None) for k, v in row.items()}


def _state_bytes(rec: dict[str, Any]) -> bytes:
    if rec.get("state_base64"):
        return base64.b64decode(rec["state_base64"])
    return str(rec.get("state") or "").encode()


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _check(walker: Walker, rec: dict[str, Any]) -> None:
    try:
        position = int(rec["position"])
        prev = bytes.fromhex(rec["prev_hash"])
        stored = bytes.fromhex(rec["hash"])
        version = int(rec["chain_version"])
        oid = UUID(rec["originator_id"])
        topic = rec.get("topic")
        event = (oid.bytes, int(rec["originator_version"]),
                 None if topic is None else topic.encode(), _state_bytes(rec))
        recorded_us = micros(from_iso(rec["recorded_at"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ChainBroken(walker.position, f"a record after this position is malformed ({exc})"
                          ) from None
    if position <= walker.position:
        raise ChainBroken(position, "records are out of order or repeated")
    if walker.count == 0:
        walker.prev = prev  # the anchor
    elif prev != walker.prev:
        raise ChainBroken(position, "the record does not follow the one before it "
                                    "(a record was removed, inserted or moved)")
    before = (walker.prev, walker.count, walker.position)
    walker.step(position, event, (recorded_us, version, stored))
    for key, value in _readable(str(oid), topic, event[3]).items():
        if _text(rec.get(key)) != _text(value):
            walker.prev, walker.count, walker.position = before  # this record is not verified
            raise ChainBroken(position, f"the {key} column does not match the event")


def verify(records_: Iterable[dict[str, Any]], digest: Head | None = None
           ) -> tuple[Report, bytes | None]:
    """Checks an export on its own; returns the report and the anchor it hangs from."""
    walker, anchor, seen, first = Walker(), None, False, 0
    try:
        for rec in records_:
            _check(walker, rec)
            if anchor is None:
                anchor, first = bytes.fromhex(rec["prev_hash"]), walker.position
            if digest and walker.position == digest.position:
                seen = True
                if walker.prev != digest.hash:
                    return Report(walker.count, walker.head, walker.position,
                                  "the hash here differs from the digest"), anchor
    except ChainBroken as broken:
        return Report(walker.count, walker.head, broken.position, broken.problem), anchor
    if digest and not seen and digest.position:
        return Report(walker.count, walker.head, None,
                      f"the digest's position {digest.position} is not in the export "
                      f"(it holds positions {first} to {walker.position})"), anchor
    return Report(walker.count, walker.head), anchor
