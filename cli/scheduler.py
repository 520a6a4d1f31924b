"""`ledgerflow scheduler`: create scheduled runs and run every queued run, loop after loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ledgerflow.cli.common import ActorOpt, ReasonOpt, SubdirOpt, domain_errors, service, stopped_by_signals

if TYPE_CHECKING:
    from ledgerflow.engine.application.service import DagPass


def scheduler(
    num_runs: Annotated[
        int | None, typer.Option("-n", "--num-runs", help="Stop after this many loops (default: run until stopped).")
    ] = None,
    subdir: SubdirOpt = None,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Create due scheduled runs and drive every queued run of every DAG (any run_type)."""
    problems: list[str] = []
    said_paused: set[str] = set()  # said once, not every loop

    def report(done: DagPass) -> None:
        if done.failed or done.blocked:
            problems.append(done.dag_id)
        if done.skipped:
            typer.echo(f"{done.dag_id}: skipped this loop, {done.skipped}")
            return
        if done.paused and done.dag_id not in said_paused:
            said_paused.add(done.dag_id)
            typer.echo(f"{done.dag_id}: skipped this loop, the DAG is paused (its backfills still run)")
        elif not done.paused:
            said_paused.discard(done.dag_id)
        parts = []
        if done.backfill is not None and done.backfill_runs:
            parts.append(f"backfill {done.backfill}: {done.backfill_runs} run(s) done")
        if done.created:
            parts.append(f"created {done.created} scheduled run(s)")
        if done.finished:
            parts.append(f"{len(done.finished)} run(s) succeeded")
        if done.failed:
            parts.append(f"{len(done.failed)} run(s) failed: {', '.join(done.failed)}")
        if done.interrupted:
            parts.append(f"interrupted tries of {', '.join(done.interrupted)} (recorded, runs queued)")
        if parts:
            typer.echo(f"{done.dag_id}: {'; '.join(parts)}")
        for line in done.blocked:
            typer.echo(f"{done.dag_id}: left queued, {line}")

    with domain_errors(), stopped_by_signals() as stop:
        sched = service().scheduler(
            num_runs=num_runs, subdir=subdir, reason=reason, actor=actor, on_pass=report,
            on_broken=lambda path, error: typer.echo(f"Broken DAG file {path}: {error}", err=True),
            should_stop=stop.is_set, sleep=stop.wait,
        )
    if sched.stopped:
        typer.echo(f"Scheduler stopped after {sched.loops} loop(s); unfinished work is queued and resumes on restart.")
    else:
        typer.echo(f"Scheduler done: {sched.loops} loop(s).")
    if problems:  # as every command: 1 when the work ran but tasks failed or were left blocked
        raise typer.Exit(1)
