"""`ledgerflow pools set | list`."""

from __future__ import annotations

from typing import Annotated

import typer

from ledgerflow.cli.common import (
    ActorOpt,
    Output,
    OutputOpt,
    ReasonOpt,
    YesOpt,
    command_group,
    confirm,
    domain_errors,
    emit,
    service,
    stale_views,
)

app = command_group("Pools: slot limits shared by all runs.")


@app.command("set")
def set_pool(
    name: str,
    slots: Annotated[int, typer.Argument(help="Number of slots (>= 0).")],
    yes: YesOpt = False,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Create a pool or change its slots (recorded as an event); a change asks unless -y."""
    from ledgerflow.engine.application.commands import SetPool

    with domain_errors():
        svc = service()
        cmd = SetPool(name=name, slots=slots, reason=reason, actor=actor)
        current = svc.pool_slots(cmd)
        if current is not None and current != slots and not yes:
            typer.echo(f"Pool {name} will change from {current} to {slots} slots.")
            if not confirm("Change it?"):
                typer.echo("Cancelled, nothing was changed.")
                raise typer.Exit(1)
        svc.set_pool(cmd)
    typer.echo(f"Pool {name} has {slots} slots.")


@app.command("list")
def list_pools(output: OutputOpt = Output.table) -> None:
    """List pools and their slots (default_pool always exists)."""
    with domain_errors():
        rows = [{"name": n, "slots": s} for n, s in service().pools().items()]
    emit(rows, output, ("name", "slots"))
    stale_views()
