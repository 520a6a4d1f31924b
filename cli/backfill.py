"""`ledgerflow dags backfill`: parse the flags, plan under the DAG lock, confirm, run, report."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from ledgerflow.cli.common import (
    FLAGS,
    ActorOpt,
    EndOpt,
    ReasonOpt,
    StartOpt,
    SubdirOpt,
    confirm,
    domain_errors,
    fail,
    service,
    stopped_by_signals,
)

if TYPE_CHECKING:
    from ledgerflow.engine.application.commands import BackfillRequest
    from ledgerflow.engine.application.service import BackfillSession


def backfill(
    dag_id: str,
    start: StartOpt = None,
    end: EndOpt = None,
    conf: Annotated[str | None, typer.Option("-c", "--conf", help="JSON object for dag_run.conf.")] = None,
    continue_on_failures: Annotated[
        bool,
        typer.Option("--continue-on-failures", help="Keep starting runs after failures (the exit code is still 1)."),
    ] = False,
    delay_on_limit: Annotated[
        float, typer.Option("--delay-on-limit", help="Seconds to wait while other runs hold max_active_runs.")
    ] = 1.0,
    donot_pickle: Annotated[
        bool,
        typer.Option(
            "-x",
            "--donot-pickle",
            help="Let workers run their own DAG file version (recorded) instead of refusing a changed file.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("-n", "--dry-run", help="Print the plan and rendered templates; write nothing.")
    ] = False,
    ignore_dependencies: Annotated[
        bool,
        typer.Option(
            "-i",
            "--ignore-dependencies",
            help="Ignore upstream and depends_on_past; with -t do not add upstream tasks.",
        ),
    ] = False,
    ignore_first_depends_on_past: Annotated[
        bool, typer.Option("-I", "--ignore-first-depends-on-past", help="Waive depends_on_past for the first run only.")
    ] = False,
    local: Annotated[bool, typer.Option("-l", "--local", help="Run tasks with the local process executor.")] = False,
    mark_success: Annotated[
        bool, typer.Option("-m", "--mark-success", help="Mark task instances success without running them.")
    ] = False,
    pool: Annotated[str | None, typer.Option("--pool", help="Run every task in this pool.")] = None,
    rerun_failed_tasks: Annotated[
        bool, typer.Option("--rerun-failed-tasks", help="Rerun failed and upstream_failed task instances in the range.")
    ] = False,
    reset_dagruns: Annotated[
        bool,
        typer.Option(
            "--reset-dagruns", help="Reset existing task instances in the range first (recorded; asks unless -y)."
        ),
    ] = False,
    run_backwards: Annotated[
        bool, typer.Option("-B", "--run-backwards", help="Newest date first (refused with depends_on_past tasks).")
    ] = False,
    subdir: SubdirOpt = None,
    task_regex: Annotated[
        str | None,
        typer.Option("-t", "--task-regex", help="Only tasks matching this regex (plus their upstream unless -i)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Print the plan's decision for every date.")] = False,
    yes: Annotated[bool, typer.Option("-y", "--yes", help="Do not ask before --reset-dagruns.")] = False,
    disable_retry: Annotated[
        bool, typer.Option("--disable-retry", help="A failed try fails its task instance: no retries.")
    ] = False,
    treat_dag_id_as_regex: Annotated[
        bool, typer.Option("--treat-dag-id-as-regex", help="Backfill every DAG whose id the regex DAG_ID finds.")
    ] = False,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Run a DAG for a range of logical dates, as `airflow dags backfill`."""
    from ledgerflow.engine.application.commands import BackfillRequest

    req = BackfillRequest(
        dag_id=dag_id, start=start, end=end, conf=conf, subdir=subdir, task_regex=task_regex,
        ignore_dependencies=ignore_dependencies, ignore_first_depends_on_past=ignore_first_depends_on_past,
        run_backwards=run_backwards, rerun_failed_tasks=rerun_failed_tasks, reset_dagruns=reset_dagruns,
        mark_success=mark_success, pool=pool, continue_on_failures=continue_on_failures,
        delay_on_limit=delay_on_limit, donot_pickle=donot_pickle, dry_run=dry_run, local=local,
        verbose=verbose, yes=yes, reason=reason, actor=actor, disable_retry=disable_retry,
    )
    def waiting(tries: int) -> None:
        typer.echo(f"Waiting for {tries} tries that a backfill which is gone left running to end; "
                   f"their outcomes are recorded, not run again.", err=True)

    with domain_errors():
        dag_ids = service().dag_ids(dag_id, subdir) if treat_dag_id_as_regex else [dag_id]
    ok = True
    for one in dag_ids:
        if treat_dag_id_as_regex:
            typer.echo(f"Backfilling DAG {one}")
        with domain_errors(), service().backfill(replace(req, dag_id=one), on_wait=waiting) as session:
            ok = _show_confirm_run(session, replace(req, dag_id=one)) and ok
    if not ok:
        raise typer.Exit(1)


def _show_confirm_run(session: BackfillSession, req: BackfillRequest) -> bool:
    """Shows the plan, asks before resets, runs it with a progress view; True when all went well."""
    from ledgerflow.cli.backfill_view import ProgressView, print_dry_run, print_outcome, print_plan, print_resets
    from ledgerflow.engine.application.service import Interrupted

    plan = session.plan
    if not plan.dates:
        typer.echo("No run dates were found for the given dates and dag interval.")
        return True
    if req.dry_run:
        return print_dry_run(session)
    if req.verbose:
        print_plan(plan)
    elif plan.conf_changes:  # a conf replaced is a change to a run: always said, before it is made
        typer.echo("-c/--conf changes the conf of adopted runs:")
        for line in plan.conf_changes:
            typer.echo(f"  {line}")
    if req.reset_dagruns and not plan.resets:
        typer.echo("Nothing to clear.")
    if plan.resets and not req.yes:
        print_resets(plan)
        if not confirm("Reset them and run the backfill?"):
            typer.echo("Cancelled, nothing was reset or run.")
            raise typer.Exit(1)
    view = ProgressView(len(plan.dates))
    started = time.monotonic()
    try:
        with stopped_by_signals() as stop:
            result = session.run(on_progress=view.update, on_wait=lambda msg: typer.echo(msg, err=True),
                                 should_stop=stop.is_set)
    except Interrupted as exc:
        raise fail(exc.say(FLAGS), 1) from None
    finally:
        view.close()
    print_outcome(plan, result.outcome, time.monotonic() - started)
    if session.halted:
        typer.echo(f"Backfill {session.backfill_id} was {session.halted} by another command; no new run started."
                   + (f" `ledgerflow backfill unpause {session.backfill_id}` or this command resumes it."
                      if session.halted == "paused" else ""))
    return result.outcome.ok
