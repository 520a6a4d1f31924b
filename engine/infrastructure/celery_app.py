"""The Celery application: the broker carries commands (which try to run), never truth.

No result backend: a worker records its claim, heartbeat, log and outcome in
PostgreSQL. Messages are acknowledged once the try's claim is taken (acks_late),
and a redelivery of a claimed try finds the claim and runs nothing, so neither a
lost worker nor the broker's redelivery makes a try run twice; publishes wait for
the broker's confirm, so an unconfirmed one is republished from the outbox.
"""

from __future__ import annotations

import functools
from typing import Any

from celery import Celery

from ledgerflow.engine.infrastructure import settings

RUN_TRY = "ledgerflow.run_try"


@functools.cache
def celery_app() -> Celery:
    app = Celery("ledgerflow", broker=settings.broker_url(), set_as_current=False)
    app.conf.update(
        task_serializer="json", accept_content=["json"], result_backend=None, task_ignore_result=True,
        task_acks_late=True, task_reject_on_worker_lost=False, worker_prefetch_multiplier=1,
        broker_connection_timeout=2, broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None, broker_transport_options={"confirm_publish": True},
        worker_hijack_root_logger=False, task_create_missing_queues=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )

    @app.task(name=RUN_TRY, bind=False, acks_late=True)
    def run_try(wire: dict[str, Any]) -> None:
        from ledgerflow.engine.runtime.celery_try import run_try as run

        run(wire)

    return app


def publish(celery_id: str, queue: str, wire: dict[str, Any], timeout: float | None) -> bool:
    """Sends one try to its queue; True once the broker confirmed it, False when the broker is away."""
    from amqp.exceptions import AMQPError
    from kombu.exceptions import KombuError

    limit = {"time_limit": timeout + 30} if timeout else {}  # the worker's own alarm fires first
    try:
        celery_app().send_task(RUN_TRY, args=[wire], task_id=celery_id, queue=queue, routing_key=queue,
                               retry=False, **limit)
    except (OSError, KombuError, AMQPError):
        return False
    return True


def revoke(celery_id: str) -> None:
    """Asks the worker running this try to stop it (SIGTERM); a broker that is away cannot be asked."""
    from amqp.exceptions import AMQPError
    from kombu.exceptions import KombuError

    try:
        celery_app().control.revoke(celery_id, terminate=True, signal="SIGTERM")
    except (OSError, KombuError, AMQPError):
        pass
