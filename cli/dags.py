"""`ledgerflow dags list | trigger | list-runs | backfill`."""

from __future__ import annotations

from typing import Annotated

import typer

from ledgerflow.cli.common import (
    ActorOpt,
    AsOfOpt,
    EndOpt,
    Output,
    OutputOpt,
    ReasonOpt,
    StartOpt,
    SubdirOpt,
    YesOpt,
    command_group,
    domain_errors,
    emit,
    service,
    stale_views,
)

app = command_group("DAGs and their runs.")

RUN_COLUMNS = ("dag_id", "run_id", "logical_date", "run_type", "state", "conf")


@app.command("list")
def list_dags(subdir: SubdirOpt = None, output: OutputOpt = Output.table) -> None:
    """List the DAGs in the DAG folder, and any broken DAG file."""
    with domain_errors():
        bag = service().dag_bag(subdir)
    rows = [
        {"dag_id": d.dag_id, "schedule": d.schedule, "fileloc": d.fileloc,
         "fingerprint": d.fingerprint, "tasks": len(d.tasks)}
        for d in sorted(bag.dags.values(), key=lambda d: d.dag_id)
    ]
    emit(rows, output, ("dag_id", "schedule", "tasks", "fileloc"))
    for path, error in bag.errors.items():
        typer.echo(f"Broken DAG file {path}: {error}", err=True)


@app.command()
def trigger(
    dag_id: str,
    logical_date: Annotated[str | None, typer.Option("-e", "--exec-date", "--logical-date",
                                                     help="Logical date (default: now).")] = None,
    conf: Annotated[str | None, typer.Option("-c", "--conf", help="JSON object for dag_run.conf.")] = None,
    run_id: Annotated[str | None, typer.Option("-r", "--run-id", help="Run id (default manual__<date>).")] = None,
    subdir: SubdirOpt = None,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Create a queued manual run; the scheduler runs it."""
    from ledgerflow.engine.application.commands import TriggerDagRun

    with domain_errors():
        run = service().trigger(TriggerDagRun(dag_id=dag_id, logical_date=logical_date, conf=conf,
                                              run_id=run_id, subdir=subdir, reason=reason, actor=actor))
    typer.echo(f"Created queued run {run.run.run_id} of {dag_id} (logical date {run.run.logical_date}).")


@app.command("list-runs")
def list_runs(
    dag_id: str,
    start: StartOpt = None,
    end: EndOpt = None,
    state: Annotated[str | None, typer.Option("--state", help="Only runs in this state.")] = None,
    as_of: AsOfOpt = None,
    subdir: SubdirOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """List the runs of a DAG, oldest first."""
    with domain_errors():
        rows = service().list_runs(dag_id, start=start, end=end, state=state, as_of=as_of, subdir=subdir)
    emit(rows, output, RUN_COLUMNS)
    stale_views()


def _set_paused(dag_id: str, paused: bool, subdir: SubdirOpt, reason: ReasonOpt, actor: ActorOpt) -> None:
    with domain_errors():
        changed = service().set_paused(dag_id, paused, actor=actor, reason=reason, subdir=subdir)
    typer.echo(f"Dag: {dag_id}, paused: {paused}" + ("" if changed else " (already)"))


@app.command()
def pause(dag_id: str, subdir: SubdirOpt = None, yes: YesOpt = False, reason: ReasonOpt = None,
          actor: ActorOpt = None) -> None:
    """Pause a DAG (an event): the scheduler creates no runs for it and starts none; backfills still run it."""
    _set_paused(dag_id, True, subdir, reason, actor)


@app.command()
def unpause(dag_id: str, subdir: SubdirOpt = None, yes: YesOpt = False, reason: ReasonOpt = None,
            actor: ActorOpt = None) -> None:
    """Unpause a DAG (an event): the scheduler creates and runs its runs again."""
    _set_paused(dag_id, False, subdir, reason, actor)


# Registered here so `ledgerflow dags backfill` sits beside its siblings.
from ledgerflow.cli.backfill import backfill  # noqa: E402

app.command()(backfill)
