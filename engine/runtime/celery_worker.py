"""`ledgerflow celery worker`: a Celery worker (prefork) that runs tries from its queues.

Each worker process runs one try at a time (see celery_try); SIGTERM is Celery's warm
shutdown: tries in progress finish and are recorded, nothing new is taken.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ledgerflow.engine.errors import InvalidInput
from ledgerflow.engine.infrastructure import settings

_QUEUE = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")


def worker_arguments(queues: str, concurrency: int, hostname: str | None) -> tuple[list[str], str]:
    """The Celery worker's arguments and the host name its tries record; refuses bad input."""
    names = [q.strip() for q in queues.split(",") if q.strip()]
    if not names or any(not _QUEUE.match(q) for q in names):
        raise InvalidInput(f"invalid queue list {queues!r}: comma-separated names of letters, digits, _ . -")
    if concurrency < 1:
        raise InvalidInput(f"concurrency must be at least 1, not {concurrency}")
    settings.heartbeat_timeout()  # refused here, not in each worker process
    host = hostname if hostname is not None else settings.hostname()
    if not host or not _QUEUE.match(host):
        raise InvalidInput(f"invalid hostname {host!r}: letters, digits, _ . -")
    return ["worker", "-Q", ",".join(names), "-c", str(concurrency), "-n", f"ledgerflow-{os.getpid()}@{host}",
            "-P", "prefork", "--without-gossip", "--without-mingle", "-l", "WARNING"], host


def serve(arguments: list[str], host: str) -> None:
    """Runs the worker until it is stopped; its processes record `host` as where tries ran."""
    from celery.signals import worker_process_init

    from ledgerflow.engine.infrastructure.celery_app import celery_app
    from ledgerflow.engine.runtime.celery_try import start_process

    os.environ["LEDGERFLOW_HOSTNAME"] = host  # forked worker processes inherit it

    def started(**_: Any) -> None:
        start_process()

    worker_process_init.connect(started, weak=False)
    celery_app().worker_main(arguments)
