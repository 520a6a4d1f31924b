"""`ledgerflow celery worker`: run tries from the broker's queues on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from ledgerflow.cli.common import command_group, domain_errors, service

app = command_group("Celery workers (LEDGERFLOW_EXECUTOR=celery).")


@app.command()
def worker(
    queues: Annotated[str, typer.Option("-q", "--queues", help="Comma-separated queues to take tries from.")]
    = "default",
    concurrency: Annotated[int, typer.Option("-c", "--concurrency", help="Tries run at once.")] = 8,
    hostname: Annotated[str | None, typer.Option("-H", "--hostname", help="The name its tries record "
                                                 "(default: this machine's).")] = None,
) -> None:
    """Run a Celery worker until SIGTERM (tries in progress finish first)."""
    with domain_errors():
        service().celery_worker(queues, concurrency, hostname)
