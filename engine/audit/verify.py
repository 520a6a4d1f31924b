"""`audit verify`: recompute the hash chain over the whole event store and compare.

Events and links are read as two ordered streams from one repeatable-read
snapshot (an append commits both together, so the snapshot is consistent) and
merged by position: an event without a link, a link without an event and a link
whose hash does not follow are each reported at the first position they occur.
A digest saved earlier (`audit digest`) additionally proves that the log still
extends it, which is the only way to catch a removed or consistently rewritten tail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.persistence import PersistenceError
from psycopg.rows import tuple_row

from ledgerflow.engine.audit.hashchain import CHAIN_TABLE, Head, Walker
from ledgerflow.engine.errors import BadDigest, ChainBroken
from ledgerflow.engine.infrastructure.store import EVENTS_TABLE, Ledger

_DIGEST = re.compile(r"position=(\d+)\s+sha256=([0-9a-f]{64})")


@dataclass
class Report:
    count: int
    head: Head
    position: int | None = None  # the first bad position, when there is one
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def digest_line(head: Head, recorded_at: str | None) -> str:
    at = f" recorded_at={recorded_at}" if recorded_at else ""
    return f"ledgerflow-chain v1 {head.text()}{at}"


def read_digest(text: str) -> Head:
    match = _DIGEST.search(text)
    if not match:
        raise BadDigest("not a ledgerflow digest: expected 'position=N sha256=<64 hex digits>'")
    return Head(int(match.group(1)), bytes.fromhex(match.group(2)))


def stored_head(ledger: Ledger) -> tuple[Head, str | None]:
    """The last link as stored (what `audit digest` prints); not a verification."""
    with ledger.cursor() as curs:
        curs.execute(f"SELECT notification_id, hash, recorded_at FROM {CHAIN_TABLE} "
                     f"ORDER BY notification_id DESC LIMIT 1")
        row = curs.fetchone()
    if row is None:
        return Head(0, Walker().prev), None
    from ledgerflow.engine.domain.dates import iso

    return Head(int(row["notification_id"]), bytes(row["hash"])), iso(row["recorded_at"])


def _merged(events: Iterator[Any], links: Iterator[Any]) -> Iterator[tuple[int, Any, Any]]:
    e, link = next(events, None), next(links, None)
    while True:
        if e is None:
            if link is None:
                return
            yield link[0], None, link[1:]
            link = next(links, None)
        elif link is None or e[0] < link[0]:
            yield e[0], e[1:], None
            e = next(events, None)
        elif link[0] < e[0]:
            yield link[0], None, link[1:]
            link = next(links, None)
        else:
            yield e[0], e[1:], link[1:]
            e, link = next(events, None), next(links, None)


def _check_digest(walker: Walker, digest: Head) -> str | None:
    if digest.position > walker.position:
        return (f"the log ends at position {walker.position} but the digest was taken at "
                f"position {digest.position}: events at the tail were removed")
    return None


def verify_store(ledger: Ledger, digest: Head | None = None) -> Report:
    walker = Walker()
    try:
        with ledger.datastore.get_connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            ev = conn.cursor(name="lf_verify_events", row_factory=tuple_row)
            ln = conn.cursor(name="lf_verify_links", row_factory=tuple_row)
            ev.itersize = ln.itersize = 20_000
            # the bytes the links hash, prepared by the server (see hashchain.link_v1_raw)
            ev.execute(f"SELECT notification_id, uuid_send(originator_id), originator_version, "
                       f"convert_to(topic, 'UTF8'), state FROM {EVENTS_TABLE} "
                       f"ORDER BY notification_id")
            ln.execute(f"SELECT notification_id, "
                       f"(extract(epoch FROM recorded_at) * 1000000)::int8, chain_version, hash "
                       f"FROM {CHAIN_TABLE} ORDER BY notification_id")
            for position, event, link in _merged(iter(ev), iter(ln)):
                if digest and walker.position < digest.position < position:
                    return Report(walker.count, walker.head, digest.position,
                                  f"position {digest.position} of the digest is no longer "
                                  f"in the log")
                walker.step(position, event, link)
                if digest and position == digest.position and walker.prev != digest.hash:
                    return Report(walker.count, walker.head, position,
                                  f"the hash at position {position} differs from the digest: "
                                  f"the log up to there was rewritten")
    except ChainBroken as broken:
        return Report(walker.count, walker.head, broken.position, broken.problem)
    except (PersistenceError, psycopg.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Report(walker.count, walker.head, None, f"the log could not be read: {first}")
    problem = _check_digest(walker, digest) if digest else None
    return Report(walker.count, walker.head, digest.position if problem and digest else None,
                  problem)
