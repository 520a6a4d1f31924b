"""`ledgerflow db migrate | check | stop`."""

from __future__ import annotations

import typer
from ledgerflow.cli.common import CONTEXT, domain_errors

app = typer.Typer(help="Database schema and the embedded server.", context_settings=CONTEXT,
                  no_args_is_help=True)


@app.command()
def migrate() -> None:
    """Apply the event store tables and sql/ migrations (idempotent)."""
    from ledgerflow.engine.infrastructure.migrations import migrate as run

    with domain_errors():
        applied = run()
    typer.echo(f"Applied: {', '.join(applied)}" if applied else "Database is up to date.")


@app.command()
def check() -> None:
    """Report the server version and the applied schema migrations."""
    from ledgerflow.engine.infrastructure.migrations import applied_versions, latest_version
    from ledgerflow.engine.infrastructure.store import Ledger

    with domain_errors():
        led = Ledger()
        try:
            with led.cursor() as curs:
                curs.execute("SELECT version() AS v")
                server = curs.fetchone()["v"]
            applied = applied_versions(led)
        finally:
            led.close()
    typer.echo(f"Server: {server}")
    for version, name, at in applied:
        typer.echo(f"Migration {version:03d}_{name} applied at {at}")
    current = max((v for v, _, _ in applied), default=0)
    if current < latest_version():
        typer.echo(f"Schema version {current}, latest {latest_version()}: run `ledgerflow db migrate`.")
        raise typer.Exit(1)
    typer.echo(f"Schema is current (version {current}).")


@app.command()
def stop() -> None:
    """Stop the embedded PostgreSQL server (it starts again on the next command)."""
    from ledgerflow.engine.infrastructure.database import stop_embedded
    from ledgerflow.engine.infrastructure.settings import database_url

    if database_url():
        typer.echo("LEDGERFLOW_DATABASE_URL is set: there is no embedded server to stop.")
        return
    typer.echo("Embedded PostgreSQL stopped." if stop_embedded() else "Embedded PostgreSQL is not running.")
