"""`ledgerflow api-server [--host 127.0.0.1] [--port 8080]`."""

from __future__ import annotations

from typing import Annotated

import typer

from ledgerflow.cli.common import domain_errors, fail


def api_server(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (default: this machine only).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8080,
) -> None:
    """Serve the HTTP API (Airflow 3's REST API subset and ledgerflow's additions) until interrupted."""
    from ledgerflow.api.server import serve

    with domain_errors():
        try:
            serve(host, port)
        except OSError as exc:
            raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
