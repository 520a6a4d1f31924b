"""`ledgerflow dags list | trigger | list-runs | backfill`."""

from __future__ import annotations

from typing import Annotated

import typer
from ledgerflow.cli.common import (
    CONTEXT,
    ActorOpt,
    AsOfOpt,
    EndOpt,
    Output,
    OutputOpt,
    ReasonOpt,
    StartOpt,
    SubdirOpt,
    date_range,
    domain_errors,
    emit,
    ledger,
    load_dag,
)

app = typer.Typer(help="DAGs and their runs.", context_settings=CONTEXT, no_args_is_help=True)

RUN_COLUMNS = ("dag_id", "run_id", "logical_date", "run_type", "state", "conf")


@app.command("list")
def list_dags(subdir: SubdirOpt = None, output: OutputOpt = Output.table) -> None:
    """List the DAGs in the DAG folder, and any broken DAG file."""
    from ledgerflow.engine.authoring.dagbag import load_dagbag
    from ledgerflow.engine.infrastructure import settings

    with domain_errors():
        bag = load_dagbag(subdir or settings.dags_folder())
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
    from ledgerflow.engine.application.trigger import trigger as run_trigger
    from ledgerflow.engine.domain.conf import parse_conf
    from ledgerflow.engine.domain.dates import parse_date
    from ledgerflow.engine.domain.operation import new_operation

    with domain_errors():
        parsed_conf = parse_conf(conf)
        dag = load_dag(dag_id, subdir)
        moment = parse_date(logical_date, dag.timezone, option="-e") if logical_date else None
        op = new_operation("dags trigger", actor=actor, reason=reason)
        run = run_trigger(ledger(), dag, op, logical_date=moment, conf=parsed_conf, run_id=run_id)
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
    from ledgerflow.engine.domain.dates import parse_date
    from ledgerflow.projections.queries import list_runs as query

    with domain_errors():
        lo, hi = date_range(dag_id, subdir, start, end)
        if state and state not in ("queued", "running", "success", "failed"):
            from ledgerflow.engine.errors import InvalidInput

            raise InvalidInput(f"unknown run state {state!r}: queued, running, success or failed")
        if as_of is None:
            rows = query(ledger(), dag_id, lo, hi, state)
        else:
            from ledgerflow.projections.as_of import run_rows, runs_as_of

            when = parse_date(as_of, "UTC", option="--as-of")
            rows = run_rows(runs_as_of(ledger(), dag_id, when, lo, hi), state)
    emit(rows, output, RUN_COLUMNS)



# Registered here so `ledgerflow dags backfill` sits beside its siblings.
from ledgerflow.cli.backfill import backfill  # noqa: E402

app.command()(backfill)
