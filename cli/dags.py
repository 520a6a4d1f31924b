"""`ledgerflow dags list | trigger | list-runs | backfill`."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import (
    CONTEXT, ActorOpt, AsOfOpt, EndOpt, Output, OutputOpt, ReasonOpt, StartOpt, SubdirOpt,
    domain_errors, emit, fail, ledger, load_dag, parse_conf,
)

app = typer.Typer(help="DAGs and their runs.", context_settings=CONTEXT, no_args_is_help=True)

RUN_COLUMNS = ("dag_id", "run_id", "logical_date", "run_type", "state", "conf")


@app.command("list")
def list_dags(subdir: SubdirOpt = None, output: OutputOpt = Output.table) -> None:
    """List the DAGs in the DAG folder, and any broken DAG file."""
    from engine import settings
    from engine.dagbag import load_dagbag

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
    from engine.dates import parse_date
    from engine.operation import new_operation
    from engine.trigger import trigger as run_trigger

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
    from engine.dates import parse_date
    from projections.queries import list_runs as query

    with domain_errors():
        zone = _zone_for(dag_id, subdir) if (start or end) else "UTC"
        lo = parse_date(start, zone, option="-s") if start else None
        hi = parse_date(end, zone, option="-e") if end else None
        if state and state not in ("queued", "running", "success", "failed"):
            from engine.errors import InvalidInput

            raise InvalidInput(f"unknown run state {state!r}: queued, running, success or failed")
        if as_of is None:
            rows = query(ledger(), dag_id, lo, hi, state)
        else:
            from projections.as_of import run_rows, runs_as_of

            when = parse_date(as_of, "UTC", option="--as-of")
            rows = run_rows(runs_as_of(ledger(), dag_id, when, lo, hi), state)
    emit(rows, output, RUN_COLUMNS)


def _zone_for(dag_id: str, subdir):  # type: ignore[no-untyped-def]
    """Naive dates are in the DAG's timezone; UTC when the DAG cannot be loaded."""
    from engine.errors import InvalidInput

    try:
        return load_dag(dag_id, subdir).timezone
    except InvalidInput:
        return "UTC"


@app.command()
def backfill(
    dag_id: str,
    start: StartOpt = None,
    end: EndOpt = None,
    conf: Annotated[str | None, typer.Option("-c", "--conf", help="JSON object for dag_run.conf.")] = None,
    continue_on_failures: Annotated[bool, typer.Option("--continue-on-failures", help="Keep starting runs after failures (the exit code is still 1).")] = False,
    delay_on_limit: Annotated[float, typer.Option("--delay-on-limit", help="Seconds to wait while other runs hold max_active_runs.")] = 1.0,
    donot_pickle: Annotated[bool, typer.Option("-x", "--donot-pickle", help="Let workers run their own DAG file version (recorded) instead of refusing a changed file.")] = False,
    dry_run: Annotated[bool, typer.Option("-n", "--dry-run", help="Print the plan and rendered templates; write nothing.")] = False,
    ignore_dependencies: Annotated[bool, typer.Option("-i", "--ignore-dependencies", help="Ignore upstream and depends_on_past; with -t do not add upstream tasks.")] = False,
    ignore_first_depends_on_past: Annotated[bool, typer.Option("-I", "--ignore-first-depends-on-past", help="Waive depends_on_past for the first run only.")] = False,
    local: Annotated[bool, typer.Option("-l", "--local", help="Run tasks with the local process executor.")] = False,
    mark_success: Annotated[bool, typer.Option("-m", "--mark-success", help="Mark task instances success without running them.")] = False,
    pool: Annotated[str | None, typer.Option("--pool", help="Run every task in this pool.")] = None,
    rerun_failed_tasks: Annotated[bool, typer.Option("--rerun-failed-tasks", help="Rerun failed and upstream_failed task instances in the range.")] = False,
    reset_dagruns: Annotated[bool, typer.Option("--reset-dagruns", help="Reset existing task instances in the range first (recorded; asks unless -y).")] = False,
    run_backwards: Annotated[bool, typer.Option("-B", "--run-backwards", help="Newest date first (refused with depends_on_past tasks).")] = False,
    subdir: SubdirOpt = None,
    task_regex: Annotated[str | None, typer.Option("-t", "--task-regex", help="Only tasks matching this regex (plus their upstream unless -i).")] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Print the plan's decision for every date.")] = False,
    yes: Annotated[bool, typer.Option("-y", "--yes", help="Do not ask before --reset-dagruns.")] = False,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Run a DAG for a range of logical dates, as `airflow dags backfill`."""
    import signal
    import time

    from cli.backfill_view import (
        ProgressView, print_dry_run, print_outcome, print_plan, print_resets,
    )
    from cli.common import confirm
    from engine.backfill import Interrupted, run_backfill
    from engine.backfill_plan import BackfillRequest, make_plan
    from engine.operation import new_operation
    from projections.projector import ViewProjector

    req = BackfillRequest(
        dag_id=dag_id, start=start, end=end, conf=conf, subdir=subdir, task_regex=task_regex,
        ignore_dependencies=ignore_dependencies,
        ignore_first_depends_on_past=ignore_first_depends_on_past, run_backwards=run_backwards,
        rerun_failed_tasks=rerun_failed_tasks, reset_dagruns=reset_dagruns,
        mark_success=mark_success, pool=pool, continue_on_failures=continue_on_failures,
        delay_on_limit=delay_on_limit, donot_pickle=donot_pickle, dry_run=dry_run, local=local,
        verbose=verbose, yes=yes, reason=reason, actor=actor,
    )
    with domain_errors():
        op = new_operation("dags backfill", actor=actor, reason=reason,
                           arguments=req.arguments(), mutating=not dry_run)
        led = ledger()
        plan = make_plan(led, req)
        if not plan.dates:
            typer.echo("No run dates were found for the given dates and dag interval.")
            return
        if dry_run:
            print_dry_run(plan)
            return
        if verbose:
            print_plan(plan)
        if reset_dagruns and not plan.resets:
            typer.echo("Nothing to clear.")
        if plan.resets and not yes:
            print_resets(plan)
            if not confirm("Reset them and run the backfill?"):
                typer.echo("Cancelled, nothing was reset or run.")
                raise typer.Exit(1)
        view = ProgressView(len(plan.dates))
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        started = time.monotonic()
        try:
            result = run_backfill(led, plan, op, on_progress=view.update,
                                  on_wait=lambda msg: typer.echo(msg, err=True))
        except Interrupted as exc:
            view.close()
            ViewProjector(led).catch_up()
            raise fail(str(exc), 1) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
        view.close()
        ViewProjector(led).catch_up()
    print_outcome(plan, result.outcome, time.monotonic() - started)
    if not result.outcome.ok:
        raise typer.Exit(1)


def _raise_interrupt(signum, frame):  # type: ignore[no-untyped-def]
    raise KeyboardInterrupt
