"""`ledgerflow db migrate | check | stop`."""

from __future__ import annotations

import typer

from ledgerflow.cli.common import command_group, domain_errors, service

app = command_group("Database schema and the embedded server.")


@app.command()
def migrate() -> None:
    """Apply the event store tables and sql/ migrations (idempotent)."""
    with domain_errors():
        applied = service().migrate()
    typer.echo(f"Applied: {', '.join(applied)}" if applied else "Database is up to date.")


@app.command()
def check() -> None:
    """Report the server version and the applied schema migrations."""
    with domain_errors():
        server, applied, latest = service().schema()
        warning = service().connection_warning()
    if warning:
        typer.echo(f"Warning: {warning}", err=True)
    typer.echo(f"Server: {server}")
    for version, name, at in applied:
        typer.echo(f"Migration {version:03d}_{name} applied at {at}")
    current = max((v for v, _, _ in applied), default=0)
    if current < latest:
        typer.echo(f"Schema version {current}, latest {latest}: run `ledgerflow db migrate`.")
        raise typer.Exit(1)
    typer.echo(f"Schema is current (version {current}).")


@app.command()
def stop() -> None:
    """Stop the embedded PostgreSQL server (it starts again on the next command)."""
    with domain_errors():
        result = service().stop_embedded()
    if result is None:
        typer.echo("LEDGERFLOW_DATABASE_URL is set: there is no embedded server to stop.")
    elif result.stopped:
        typer.echo("Embedded PostgreSQL stopped.")
    elif result.stale:
        typer.echo(f"Embedded PostgreSQL is not running ({result.stale}); nothing was signalled.")
    else:
        typer.echo("Embedded PostgreSQL is not running.")
