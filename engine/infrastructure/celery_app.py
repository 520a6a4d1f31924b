"""The Celery application: the broker carries commands (which try to run), never truth.

No result backend: a worker records its claim, heartbeat, log and outcome in
PostgreSQL. Messages are acknowledged once the try's claim is taken (acks_late),
and a redelivery of a claimed try finds the claim and runs nothing, so neither a
lost worker nor the broker's redelivery makes a try run twice; publishes are
confirmed by the broker, and one it did not confirm is republished from the outbox.
"""

from __future__ import annotations

import contextlib
import functools
import time
from typing import Any

from celery import Celery

from ledgerflow.engine.infrastructure import settings

RUN_TRY = "ledgerflow.run_try"
CONFIRM_TIMEOUT = 5.0  # seconds the broker may take to confirm a message before it counts as not taken


@functools.cache
def celery_app() -> Celery:
    app = Celery("ledgerflow", broker=settings.broker_url(), set_as_current=False)
    app.conf.update(
        task_serializer="json", accept_content=["json"], result_backend=None, task_ignore_result=True,
        task_acks_late=True, task_reject_on_worker_lost=False, worker_prefetch_multiplier=1,
        broker_connection_timeout=2, broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None, worker_hijack_root_logger=False, task_create_missing_queues=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )

    @app.task(name=RUN_TRY, bind=False, acks_late=True)
    def run_try(wire: dict[str, Any]) -> None:
        from ledgerflow.engine.runtime.celery_try import run_try as run

        run(wire)

    return app


class Publisher:
    """Publishes tries with publisher confirms, without waiting for them: a batch is sent on one channel
    and the broker's acks are read later (`settle`), so neither a round trip per message nor one per
    batch holds the driver up. Messages are Celery's task protocol (v2), built without send_task's
    per-message work (a repr of every argument, signals, routing): workers consume them as any task."""

    def __init__(self) -> None:
        self._conn: Any = None
        self._producer: Any = None
        self._next_tag = 1
        self._pending: dict[int, tuple[str, float]] = {}  # delivery tag -> (celery id, sent at), unconfirmed
        self._confirmed: list[str] = []
        self._lost: list[str] = []
        self._origin = f"ledgerflow-driver@{settings.hostname()}"

    def _channel(self) -> Any:
        if self._conn is None:
            from kombu import Connection, Producer

            self._conn = Connection(settings.broker_url(), connect_timeout=2)
            channel = self._conn.default_channel
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            self._producer = Producer(channel, serializer="json")
            self._next_tag = 1
        return self._conn.default_channel

    def _taken(self, delivery_tag: int, multiple: bool) -> list[str]:
        tags = [t for t in self._pending if t <= delivery_tag] if multiple else [delivery_tag]
        return [self._pending.pop(t)[0] for t in tags if t in self._pending]

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._confirmed += self._taken(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool, *_: Any) -> None:
        self._lost += self._taken(delivery_tag, multiple)

    def _send(self, celery_id: str, queue: str, wire: dict[str, Any], timeout: float | None) -> None:
        limit = timeout + 30 if timeout else None  # the worker's own alarm fires first
        headers, properties, body, _ = celery_app().amqp.as_task_v2(
            celery_id, RUN_TRY, args=[wire], time_limit=limit, origin=self._origin,
            argsrepr=f"[try {wire.get('try_number')} of {wire.get('task_id')!r} in run {wire.get('run_uuid')}]",
            kwargsrepr="{}")
        self._pending[self._next_tag] = (celery_id, time.monotonic())
        self._next_tag += 1
        self._producer.publish(body, exchange="", routing_key=queue, headers=headers, delivery_mode=2, retry=False,
                               **properties)

    def send(self, tries: list[tuple[str, str, dict[str, Any], float | None]]) -> bool:
        """Sends (celery_id, queue, job, timeout) each; False when the broker is away (none is sent)."""
        from amqp.exceptions import AMQPError
        from kombu.common import maybe_declare
        from kombu.exceptions import KombuError

        if not tries:
            return True
        try:
            channel = self._channel()
            for queue in sorted({t[1] for t in tries}):  # declared as a worker does, once per connection
                maybe_declare(celery_app().amqp.queues[queue], channel)
            for celery_id, queue, wire, timeout in tries:
                self._send(celery_id, queue, wire, timeout)
        except (OSError, KombuError, AMQPError):  # the broker is away (a timeout is an OSError)
            self.close()
            return False
        return True

    def settle(self, wait: float = 0.0) -> tuple[list[str], list[str]]:
        """(confirmed, lost): the celery ids the broker confirmed since the last call (waiting up to `wait`
        seconds for the rest), and those it refused, or that went with a connection lost, or unconfirmed
        for CONFIRM_TIMEOUT (the relay sends them again)."""
        from amqp.exceptions import AMQPError
        from kombu.exceptions import KombuError

        deadline = time.monotonic() + wait
        try:
            while self._pending:
                self._conn.drain_events(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:  # nothing more to read now
            if self._pending and time.monotonic() - next(iter(self._pending.values()))[1] > CONFIRM_TIMEOUT:
                self.close()
        except (OSError, KombuError, AMQPError):
            self.close()
        confirmed, lost, self._confirmed, self._lost = self._confirmed, self._lost, [], []
        return confirmed, lost

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.release()
        self._conn, self._producer = None, None
        self._lost += [celery_id for celery_id, _ in self._pending.values()]
        self._pending = {}


def revoke(celery_id: str) -> None:
    """Asks the worker running this try to stop it (SIGTERM); a broker that is away cannot be asked."""
    from amqp.exceptions import AMQPError
    from kombu.exceptions import KombuError

    try:
        celery_app().control.revoke(celery_id, terminate=True, signal="SIGTERM")
    except (OSError, KombuError, AMQPError):
        pass
