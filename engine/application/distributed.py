"""Distributed execution's use cases (a Celery worker), mixed into the application service."""

from __future__ import annotations

from ledgerflow.engine.infrastructure import migrations


class Distributed:
    """Mixed into the service, which provides `_url`."""

    _url: str | None

    def celery_worker(self, queues: str = "default", concurrency: int = 8, hostname: str | None = None) -> None:
        """Runs a Celery worker on this machine until it is stopped (refuses bad input before anything)."""
        from ledgerflow.engine.runtime.celery_worker import serve, worker_arguments

        arguments, host = worker_arguments(queues, concurrency, hostname)
        migrations.open_ledger(self._url).close()  # the tables its tries write, whichever machine starts first
        serve(arguments, host)
