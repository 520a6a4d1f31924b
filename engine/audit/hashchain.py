"""Tamper evidence: a SHA-256 hash chain over every stored event, in notification order.

Each link commits to the link before it and to every byte of one stored event
(position, originator, version, topic, state) plus the instant it was recorded,
so rewriting, deleting, inserting or reordering any event breaks the chain from
that position on, even when done by a superuser with the append-only triggers
disabled. Rewriting the whole tail consistently is only caught against a digest
kept outside the database (`audit digest`), which `check_digest` compares.

The serialisation is versioned: each link stores the version it was made with,
and sql/003_hash_chain.sql computes version 1 with the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any
from uuid import UUID

from psycopg import Cursor

from ledgerflow.engine.errors import ChainBroken

GENESIS = bytes(32)
VERSION = 1
CHAIN_TABLE = "ledgerflow_chain"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICRO


_LENGTH = struct.Struct(">i").pack
_HEAD_V1 = struct.Struct(">h32sq16sqq").pack  # version, prev, position, originator, version, µs


def _field(data: bytes | None) -> bytes:
    return _LENGTH(-1) if data is None else _LENGTH(len(data)) + data


def _link_v1(prev: bytes, position: int, originator: bytes, originator_version: int,
             recorded_us: int, topic_field: bytes, state_field: bytes) -> bytes:
    return sha256(
        _HEAD_V1(1, prev, position, originator, originator_version, recorded_us)
        + topic_field + state_field
    ).digest()


def link_v1_raw(prev: bytes, position: int, originator: bytes, originator_version: int,
                recorded_us: int, topic: bytes | None, state: bytes | None) -> bytes:
    """Version 1 over the stored bytes: the uuid's 16 bytes, the topic in UTF-8, the time in µs."""
    return _link_v1(prev, position, originator, originator_version, recorded_us, _field(topic),
                    _field(state))


def link_v1(prev: bytes, position: int, originator_id: UUID | str, originator_version: int,
            recorded_at: datetime, topic: str | None, state: bytes | None) -> bytes:
    oid = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
    return link_v1_raw(prev, position, oid.bytes, originator_version, micros(recorded_at),
                       None if topic is None else topic.encode(),
                       None if state is None else bytes(state))


LINKS: dict[int, Callable[..., bytes]] = {1: link_v1_raw}  # by chain_version

_HEAD = (
    f"SELECT clock_timestamp() AS now, h.hash, h.recorded_at FROM (SELECT 1) AS one "
    f"LEFT JOIN LATERAL (SELECT hash, recorded_at FROM {CHAIN_TABLE} "
    f"ORDER BY notification_id DESC LIMIT 1) AS h ON true"
)


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # binary COPY header, no flags or extension
_COPY_TRAILER = b"\xff\xff"
_LINK_ROW = struct.Struct(">hiqiqihi32s").pack  # 4 fields: int8, timestamptz, int2, bytea(32)
_PG_EPOCH_US = micros(datetime(2000, 1, 1, tzinfo=UTC))  # binary timestamptz counts from 2000
_TOPICS: dict[str, bytes] = {}  # a handful of event classes, each encoded once as a field


def extend(curs: Cursor[Any], first_id: int, stored: Sequence[Any]) -> None:
    """Links freshly appended events; runs inside the append transaction, under its lock.

    All events of one append share one recorded_at, never earlier than the last
    link's, so "recorded at or before T" always selects a prefix of the log. The
    rows are packed as binary COPY directly: this runs on every append.
    """
    curs.execute(_HEAD)
    row = curs.fetchone()
    assert row is not None
    prev = bytes(row["hash"]) if row["hash"] is not None else GENESIS
    at = row["now"] if row["recorded_at"] is None else max(row["now"], row["recorded_at"])
    at_us = micros(at)
    at_pg = at_us - _PG_EPOCH_US
    rows = []
    for position, e in enumerate(stored, start=first_id):
        oid = e.originator_id if isinstance(e.originator_id, UUID) else UUID(e.originator_id)
        topic = _TOPICS.get(e.topic) or _TOPICS.setdefault(e.topic, _field(e.topic.encode()))
        state = bytes(e.state)
        prev = _link_v1(prev, position, oid.bytes, e.originator_version, at_us, topic,
                        _LENGTH(len(state)) + state)
        rows.append(_LINK_ROW(4, 8, position, 8, at_pg, 2, VERSION, 32, prev))
    with curs.copy(
        f"COPY {CHAIN_TABLE} (notification_id, recorded_at, chain_version, hash) "
        f"FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.write(_COPY_SIGNATURE + b"".join(rows) + _COPY_TRAILER)


@dataclass
class Head:
    position: int
    hash: bytes

    def text(self) -> str:
        return f"position={self.position} sha256={self.hash.hex()}"


class Walker:
    """Recomputes links one event at a time and compares them with the stored ones."""

    def __init__(self, prev: bytes = GENESIS) -> None:
        self.prev = prev
        self.count = 0
        self.position = 0

    def step(self, position: int, event: Sequence[Any] | None, link: Sequence[Any] | None) -> None:
        """event: (originator uuid bytes, version, topic bytes, state bytes);
        link: (recorded_at in µs since 1970, chain version, hash)."""
        if event is None:
            raise ChainBroken(position, "the chain has a link here but the event is gone (deleted)")
        if link is None:
            raise ChainBroken(position,
                              "this event has no chain link (inserted outside the ledger)")
        recorded_at, version, stored = link
        make = LINKS.get(version)
        if make is None:
            raise ChainBroken(position, f"unknown chain version {version}")
        computed = make(self.prev, position, *event[:2], recorded_at, *event[2:])
        if computed != bytes(stored):
            raise ChainBroken(
                position,
                "the event does not match its chain link: it was rewritten or moved, "
                "or an event before it was removed",
            )
        self.prev = computed
        self.count += 1
        self.position = position

    @property
    def head(self) -> Head:
        return Head(self.position, self.prev)
