"""`ledgerflow projections rebuild | status`."""

from __future__ import annotations

from typing import Annotated

import typer

from ledgerflow.cli.common import YesOpt, command_group, confirm, domain_errors, printable, service

app = command_group("The views folded from the event store.")


def _broken(problem: str) -> str:
    return printable(f"The hash chain does not verify {problem}")


@app.command()
def rebuild(
    yes: YesOpt = False,
    allow_broken_chain: Annotated[bool, typer.Option(
        "--allow-broken-chain", help="Rebuild even when the hash chain does not verify (the views then "
        "fold the events as they are now, altered ones included).")] = False,
) -> None:
    """Drop the views and replay every event into them (refused when the hash chain does not verify)."""
    with domain_errors():
        svc = service()
        plan = svc.plan_rebuild(allow_broken_chain=allow_broken_chain)
        if plan.broken_chain is not None:
            typer.echo(f"Warning: {_broken(plan.broken_chain)}; the rebuilt views will fold the "
                       f"altered events as they are now. `ledgerflow audit verify` keeps reporting it.",
                       err=True)
        if not yes and not confirm(
            f"Drop the dag_run, task_instance, pool, operation and audit_entry views "
            f"and replay {plan.events} events?"
        ):
            typer.echo("Cancelled, nothing was rebuilt.")
            raise typer.Exit(1)
        count = svc.rebuild_views(plan)
    typer.echo(f"Rebuilt views from {count} events.")


@app.command()
def status() -> None:
    """Show the views' position in the event log, how far behind they are, and whether the
    hash chain verifies (exit 1 when it does not)."""
    with domain_errors():
        svc = service()
        st = svc.view_status()
        problem = svc.chain_problem()
    typer.echo(f"position {st['position']}  head {st['head']}  lag {st['lag']}")
    if problem is not None:
        typer.echo(f"{_broken(problem)}. The views may show altered or lost history; "
                   f"`ledgerflow audit verify` says what changed.")
        raise typer.Exit(1)
