"""`ledgerflow projections rebuild | status`."""

from __future__ import annotations

import typer

from ledgerflow.cli.common import YesOpt, command_group, confirm, domain_errors, service

app = command_group("The views folded from the event store.")


@app.command()
def rebuild(yes: YesOpt = False) -> None:
    """Drop the views and replay every event into them."""
    with domain_errors():
        svc = service()
        status = svc.view_status()
        if not yes and not confirm(
            f"Drop the dag_run, task_instance, pool, operation and audit_entry views "
            f"and replay {status['head']} events?"
        ):
            typer.echo("Cancelled, nothing was rebuilt.")
            raise typer.Exit(1)
        count = svc.rebuild_views()
    typer.echo(f"Rebuilt views from {count} events.")


@app.command()
def status() -> None:
    """Show the views' position in the event log and how far behind they are."""
    with domain_errors():
        st = service().view_status()
    typer.echo(f"position {st['position']}  head {st['head']}  lag {st['lag']}")
