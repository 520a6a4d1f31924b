"""The Celery application: the broker carries commands (which try to run), never truth.

No result backend: a worker records its claim, heartbeat, log and outcome in
PostgreSQL. Messages are acknowledged once the try's claim is taken (acks_late),
and a redelivery of a claimed try finds the claim and runs nothing, so neither a
lost worker nor the broker's redelivery makes a try run twice; publishes wait for
the broker's confirms, so an unconfirmed one is republished from the outbox.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from celery import Celery

from ledgerflow.engine.infrastructure import settings

RUN_TRY = "ledgerflow.run_try"
CONFIRM_TIMEOUT = 5.0  # seconds the broker may take to confirm a batch before it counts as not taken


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
    """Publishes tries in batches with publisher confirms: all of a batch is sent, then the broker's acks
    are awaited once (a confirm per message would cost a round trip each)."""

    def __init__(self) -> None:
        self._conn: Any = None
        self._sent = 0
        self._acked = 0
        self._refused = False

    def _channel(self) -> Any:
        if self._conn is None:
            from kombu import Connection

            self._conn = Connection(settings.broker_url(), connect_timeout=2)
            channel = self._conn.default_channel
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            self._sent = self._acked = 0
        return self._conn.default_channel

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._acked = max(self._acked, delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool, *_: Any) -> None:
        self._refused = True

    def publish(self, tries: list[tuple[str, str, dict[str, Any], float | None]]) -> int:
        """Sends (celery_id, queue, job, timeout) each; how many the broker confirmed (all or none)."""
        from amqp.exceptions import AMQPError
        from kombu import Producer
        from kombu.exceptions import KombuError

        if not tries:
            return 0
        try:
            producer = Producer(self._channel())
            for celery_id, queue, wire, timeout in tries:
                limit = {"time_limit": timeout + 30} if timeout else {}  # the worker's own alarm fires first
                celery_app().send_task(RUN_TRY, args=[wire], task_id=celery_id, queue=queue, routing_key=queue,
                                       producer=producer, retry=False, **limit)
                self._sent += 1
            while self._acked < self._sent and not self._refused:
                self._conn.drain_events(timeout=CONFIRM_TIMEOUT)
        except (OSError, KombuError, AMQPError):  # the broker is away (a timeout is an OSError)
            self.close()
            return 0
        if self._refused:
            self.close()
            return 0
        return len(tries)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.release()
        self._conn, self._refused = None, False


def revoke(celery_id: str) -> None:
    """Asks the worker running this try to stop it (SIGTERM); a broker that is away cannot be asked."""
    from amqp.exceptions import AMQPError
    from kombu.exceptions import KombuError

    try:
        celery_app().control.revoke(celery_id, terminate=True, signal="SIGTERM")
    except (OSError, KombuError, AMQPError):
        pass
