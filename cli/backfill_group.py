"""`ledgerflow backfill create | list | show | pause | unpause | cancel`: backfills as objects."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import typer

from ledgerflow.cli.common import (
    ActorOpt,
    AsOfOpt,
    Output,
    OutputOpt,
    ReasonOpt,
    SubdirOpt,
    YesOpt,
    command_group,
    confirm,
    domain_errors,
    emit,
    emit_table,
    service,
    stale_views,
)

app = command_group("Backfills as objects: created, then driven by the scheduler.")

COLUMNS = ("id", "dag_id", "from_date", "to_date", "reprocess_behavior", "max_active_runs", "run_backwards",
           "is_paused", "state", "created_at", "completed_at", "created_by")
DATE_COLUMNS = ("logical_date", "run_id", "decision", "state")
IdArg = Annotated[int, typer.Argument(help="The backfill's id (see `ledgerflow backfill list`).")]


def _summary(dates: list[dict[str, Any]]) -> str:
    created = sum(1 for d in dates if d["decision"] == "created")
    adopted = sum(1 for d in dates if d["decision"] == "adopted")
    return f"{len(dates)} date(s): {created} created, {adopted} adopted, {len(dates) - created - adopted} skipped"


@app.command()
def create(
    dag_id: Annotated[str, typer.Option("--dag-id", help="The DAG to backfill.")],
    from_date: Annotated[str, typer.Option("--from-date", help="First logical date (inclusive).")],
    to_date: Annotated[str, typer.Option("--to-date", help="Last logical date (inclusive).")],
    reprocess_behavior: Annotated[str, typer.Option(
        "--reprocess-behavior", help="Dates with a run: none skips them, failed re-runs failed ones, completed all.",
    )] = "none",
    max_active_runs: Annotated[int | None, typer.Option(
        "--max-active-runs", help="Runs of this backfill at a time (default: the DAG's max_active_runs).")] = None,
    run_backwards: Annotated[bool, typer.Option("--run-backwards", help="Newest date first.")] = False,
    dag_run_conf: Annotated[str | None, typer.Option("--dag-run-conf", help="JSON object for dag_run.conf.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show each date's decision; write nothing.")] = False,
    subdir: SubdirOpt = None,
    output: OutputOpt = Output.table,
    yes: YesOpt = False,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Record a backfill of a date range; `ledgerflow scheduler` drives it."""
    from ledgerflow.engine.application.commands import CreateBackfill

    cmd = CreateBackfill(dag_id=dag_id, from_date=from_date, to_date=to_date, reprocess_behavior=reprocess_behavior,
                         max_active_runs=max_active_runs, run_backwards=run_backwards, dag_run_conf=dag_run_conf,
                         dry_run=True, subdir=subdir, reason=reason, actor=actor)
    with domain_errors():
        svc = service()
        dates = svc.plan_backfill(cmd).dates
        if dry_run:
            emit(dates, output, DATE_COLUMNS[:3])
            return
        if not yes:
            emit_table(dates, DATE_COLUMNS[:3], title=f"Backfill of {dag_id}")
            if not confirm(f"Create this backfill ({_summary(dates)})?"):
                typer.echo("Cancelled, nothing was created.")
                raise typer.Exit(1)
        row = svc.create_backfill(replace(cmd, dry_run=False))
    if output is Output.json:
        emit([row], output, COLUMNS)
    else:
        typer.echo(f"Created backfill {row['id']} of {dag_id}, {_summary(dates)}; `ledgerflow scheduler` drives it.")


@app.command("list")
def list_backfills(
    dag_id: Annotated[str | None, typer.Option("--dag-id", help="Only this DAG's backfills.")] = None,
    as_of: AsOfOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """List backfills, oldest first."""
    with domain_errors():
        rows = service().backfills(dag_id, as_of=as_of)
    emit(rows, output, COLUMNS)
    stale_views()


@app.command()
def show(backfill_id: IdArg, as_of: AsOfOpt = None, output: OutputOpt = Output.table) -> None:
    """Show a backfill's dates: each one's run, decision and run state."""
    with domain_errors():
        svc = service()
        row = svc.get_backfill(backfill_id, as_of=as_of)
        dates = svc.backfill_dates(backfill_id, as_of=as_of)
    if output is Output.table:
        typer.echo(" ".join(f"{k}={row[k]}" for k in COLUMNS))
    emit(dates, output, DATE_COLUMNS)
    stale_views()


def _change(verb: str, what: str, backfill_id: int, yes: bool, reason: str | None, actor: str | None) -> None:
    with domain_errors():
        svc = service()
        row = svc.get_backfill(backfill_id)
        if not yes:
            typer.echo(f"Backfill {backfill_id} of {row['dag_id']} ({row['from_date']} .. {row['to_date']}) is "
                       f"{row['state']}; it will be {what}.")
            if not confirm(f"{verb} it?"):
                typer.echo("Cancelled, nothing was changed.")
                raise typer.Exit(1)
        change = {"paused": svc.pause_backfill, "unpaused": svc.unpause_backfill,
                  "cancelled": svc.cancel_backfill}[what]
        row = change(backfill_id, actor=actor, reason=reason)
    typer.echo(f"Backfill {backfill_id} is {row['state']}.")


@app.command()
def pause(backfill_id: IdArg, yes: YesOpt = False, reason: ReasonOpt = None, actor: ActorOpt = None) -> None:
    """Stop starting new runs (running task instances finish)."""
    _change("Pause", "paused", backfill_id, yes, reason, actor)


@app.command()
def unpause(backfill_id: IdArg, yes: YesOpt = False, reason: ReasonOpt = None, actor: ActorOpt = None) -> None:
    """Let the scheduler drive it again."""
    _change("Unpause", "unpaused", backfill_id, yes, reason, actor)


@app.command()
def cancel(backfill_id: IdArg, yes: YesOpt = False, reason: ReasonOpt = None, actor: ActorOpt = None) -> None:
    """Stop starting new runs and record every date not started as `skipped: cancelled`."""
    _change("Cancel", "cancelled", backfill_id, yes, reason, actor)
