"""The event store: the eventsourcing Application over its PostgreSQL recorder.

Events are appended with COPY inside one transaction that holds the events
table's insert lock, so any number of events lands atomically and in notification
order, without the pipeline stall that large executemany() batches can hit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from ledgerflow.engine.audit.hashchain import extend
from ledgerflow.engine.domain.values import JSON_DEPTH, json_document
from ledgerflow.engine.errors import BadValue, ConcurrentModification
from ledgerflow.engine.infrastructure import settings
from ledgerflow.engine.infrastructure.connections import connect_timeout
from ledgerflow.engine.infrastructure.database import conninfo, resolve_url
from ledgerflow.engine.infrastructure.pool import URL_OPTIONS

APP_NAME = "ledgerflow"
EVENTS_TABLE = "ledgerflow_events"
TRACKING_TABLE = "ledgerflow_tracking"


class LedgerRecorder(PostgresApplicationRecorder):
    """Appends with COPY and returns the notification ids the rows received."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        return self.insert_mapped(stored_events, _as_is)

    def insert_mapped(self, events: Sequence[Any], to_stored: Callable[[Any], StoredEvent]) -> list[int]:
        """Stores `to_stored(event)` of each event, mapping each one while the COPY streams the
        ones before it, so the server ingests rows while this process serialises the rest."""
        if not events:
            return []
        table = Identifier(self.datastore.schema, self.events_table_name)
        stored_events: list[StoredEvent] = []
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            self._notify_channel(curs)
            with curs.copy(
                SQL("COPY {} (originator_id, originator_version, topic, state) "
                    "FROM STDIN (FORMAT BINARY)").format(table)
            ) as copy:
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for event in events:
                    e = to_stored(event)
                    stored_events.append(e)
                    copy.write_row((e.originator_id, e.originator_version, e.topic, e.state))
            curs.execute(
                SQL("SELECT currval(pg_get_serial_sequence({}, 'notification_id')) AS last").format(
                    f"{self.datastore.schema}.{self.events_table_name}"
                )
            )
            row = curs.fetchone()
            assert row is not None
            last = int(row["last"])
            first = last - len(stored_events) + 1
            self.after_append(curs, first, stored_events)
        return list(range(first, last + 1))

    def after_append(self, curs: Cursor[Any], first_id: int, stored: Sequence[StoredEvent]) -> None:
        """Hook run in the append transaction (the audit hash chain extends it)."""
        extend(curs, first_id, stored)


def _as_is(stored: StoredEvent) -> StoredEvent:
    return stored


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_TOPICS: dict[type, str] = {}


class LedgerMapper(Mapper):
    """Maps events to stored events with the library's exact bytes, faster.

    Our event payloads are plain JSON but for the timestamp, so the timestamp is
    encoded as the library's transcoder would ({"_type_": "datetime_iso", ...})
    and the rest goes straight to the C JSON encoder; anything else falls back to
    the library's own mapping. A value the views could not read back (NaN, a NUL, a
    lone surrogate) that got past the commands' checks refuses the whole append.
    """

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = dict(vars(domain_event))
        stamp = state.get("timestamp")
        if (self.cipher is not None or self.compressor is not None or type(stamp) is not datetime
                or getattr(type(domain_event), "class_version", 1) > 1):
            return super().to_stored_event(domain_event)
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        state["timestamp"] = {"_type_": "datetime_iso", "_data_": stamp.isoformat()}
        cls = type(domain_event)
        try:
            data = _JSON(state).encode("utf8")
        except TypeError:  # a value plain JSON cannot hold: let the transcoder encode it
            return super().to_stored_event(domain_event)
        except ValueError as exc:  # NaN or Infinity; a lone surrogate (UnicodeEncodeError)
            raise BadValue(f"event {cls.__qualname__} holds a value the store cannot keep ({exc})") from None
        if b"\\u0000" in data:  # an escaped NUL, or a text that spells one out: tell them apart
            json_document(state, f"event {cls.__qualname__}", depth=JSON_DEPTH + 1)  # a conf sits in it
        topic = _TOPICS.get(cls) or _TOPICS.setdefault(cls, get_topic(cls))
        return StoredEvent(originator_id=originator_id, originator_version=originator_version,
                           topic=topic, state=data)


def store_env(url: str) -> dict[str, str]:
    """The library's settings for our store; connections.py bounds every session it opens."""
    info = conninfo(url)
    limit = settings.db_timeout()
    return {
        "PERSISTENCE_MODULE": "ledgerflow.engine.infrastructure.pool:LedgerFactory",
        "POSTGRES_DBNAME": info.get("dbname", "postgres"),
        "POSTGRES_HOST": info.get("host", "127.0.0.1"),
        "POSTGRES_PORT": info.get("port", "5432"),
        "POSTGRES_USER": info.get("user", "postgres"),
        "POSTGRES_PASSWORD": info.get("password", ""),
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "4",
        "POSTGRES_CONNECT_TIMEOUT": str(connect_timeout() + 5),  # the wait for a connection from the pool
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(round(2 * limit)),
        URL_OPTIONS: info.get("options", ""),
        "CREATE_TABLE": "n",  # migrations.migrate() creates them, under its lock
        "APPLICATION_RECORDER_TOPIC": "ledgerflow.engine.infrastructure.store:LedgerRecorder",
        "MAPPER_TOPIC": "ledgerflow.engine.infrastructure.store:LedgerMapper",
    }


class Ledger(Application):
    """The one application: holds every aggregate's events."""

    name = APP_NAME

    def __init__(self, url: str | None = None) -> None:
        self.url = url or resolve_url()
        super().__init__(env=store_env(self.url))
        self.recorder: LedgerRecorder

    @property
    def datastore(self) -> Any:
        return self.recorder.datastore

    @contextmanager
    def transaction(self) -> Iterator[Cursor[Any]]:
        with self.datastore.transaction(commit=True) as curs:
            yield curs

    @contextmanager
    def cursor(self) -> Iterator[Cursor[Any]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            yield curs

    def append(self, *aggregates: Any) -> None:
        """Stores all pending events of the aggregates in one transaction.

        What Application.save() does for this application (it takes no snapshots, keeps
        no aggregate cache and has no notify hooks), without the Recording and
        Notification objects save() builds for every event and nothing here reads, and
        without its two runtime Protocol isinstance() checks per aggregate (~10 us).
        """
        events = [e for agg in aggregates if agg is not None for e in agg.collect_events()]
        try:
            self.recorder.insert_mapped(events, self.mapper.to_stored_event)
        except IntegrityError as exc:
            raise ConcurrentModification(
                "another operation changed the same runs meanwhile; nothing was written"
            ) from exc
