"""Rendering for `dags backfill`: the plan, the progress bar, the summary."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import typer

from ledgerflow.engine.application.service import iso, label

if TYPE_CHECKING:
    from ledgerflow.engine.application.service import BackfillPlan, BackfillSession, Outcome, Progress


def print_dry_run(session: BackfillSession) -> bool:
    """Prints the rendered plan; False when a template failed to render (the dry run then exits 1)."""
    plan = session.plan
    failed = 0
    dag = plan.dag
    typer.echo(f"Dry run of DAG {dag.dag_id} on {plan.start.isoformat(sep=' ')}")
    print_plan(plan)
    for shown in session.preview():
        typer.echo(f"Task {shown.task_id} located in DAG {dag.dag_id} for {label(iso(shown.logical_date))}")
        if shown.error is not None:
            failed += 1
            typer.echo(f"    template error: {shown.error}")
        for name, value in shown.fields.items():
            typer.echo(f"    {name}: {value}")
    if failed:
        typer.echo(f"{failed} task template(s) failed to render", err=True)
    return not failed


def print_plan(plan: BackfillPlan) -> None:
    typer.echo(
        f"Plan: {len(plan.dates)} run(s), {len(plan.to_create)} to create, "
        f"{len(plan.to_adopt)} to adopt; tasks: {', '.join(plan.dag.topological_order())}"
    )
    for line in plan.decisions:
        typer.echo(f"  {line}")


def print_resets(plan: BackfillPlan) -> None:
    typer.echo(f"--reset-dagruns will reset these {len(plan.resets)} task instances:")
    for found, task_id in plan.resets:
        typer.echo(f"  {plan.full_dag.dag_id}.{task_id} {found.run.run_id} "
                   f"[{found.run.tis[task_id].state}]")


class ProgressView:
    """A rich bar on a terminal; plain periodic lines otherwise."""

    def __init__(self, total_runs: int) -> None:
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self._last_line = 0.0
        self._waiting: str | None = None
        self._bar: Any = None
        if self.tty:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("[bold]backfill"), BarColumn(),
                TextColumn("runs {task.fields[runs]}  TIs {task.completed:.0f}/{task.total:.0f}"
                           "  queued {task.fields[queued]}  running {task.fields[running]}"
                           "  failed {task.fields[failed]}"),
                TimeRemainingColumn(), transient=False,
            )
            self._task = self._bar.add_task("backfill", total=1, runs=f"0/{total_runs}",
                                            queued=0, running=0, failed=0)
            self._bar.start()

    def update(self, p: Progress) -> None:
        if p.waiting != self._waiting:  # said at once, not at the next periodic line
            self._waiting = p.waiting
            if p.waiting:
                (self._bar.console.print if self._bar is not None else lambda m: typer.echo(m, err=True))(
                    f"[backfill] {p.waiting}")
        if self._bar is not None:
            self._bar.update(self._task, total=max(p.tis_total, 1), completed=p.tis_done,
                             runs=f"{p.runs_done}/{p.runs_total}", queued=p.queued, running=p.running,
                             failed=p.failed)
            return
        now = time.monotonic()
        if now - self._last_line >= 5:
            self._last_line = now
            typer.echo(
                f"[backfill] runs {p.runs_done}/{p.runs_total} | task instances "
                f"{p.tis_done}/{p.tis_total} | " + (f"queued {p.queued} | " if p.queued else "")
                + f"running {p.running} | failed {p.failed} | "
                f"elapsed {now - self.started:.0f}s" + (f" | {p.waiting}" if p.waiting else ""), err=True,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def print_outcome(plan: BackfillPlan, outcome: Outcome, elapsed: float) -> None:
    from ledgerflow.cli.common import emit_table

    if outcome.failed:
        typer.echo("Some task instances failed:")
        rows = [
            {"DAG ID": run.dag_id, "Task ID": t, "Run ID": run.run_id,
             "State": run.tis[t].state, "Try number": run.tis[t].try_number,
             "Error": outcome.errors.get((run.run_id, t), "").split("\n", 1)[0]}
            for run, t in sorted(outcome.failed, key=lambda x: (x[0].run_id, x[1]))
        ]
        emit_table(rows, ("DAG ID", "Task ID", "Run ID", "State", "Try number", "Error"))
    if outcome.blocked:
        typer.echo("Blocked: nothing can run and these task instances are unfinished "
                   "(their runs are left queued):")
        for b in outcome.blocked:
            typer.echo(f"  {b.describe()}")
    if outcome.stopped:
        typer.echo(f"Stopped once, no try burnt: {outcome.stopped.split(': ', 1)[-1]}; the same command "
                   f"plans again with the new version (or -x/--donot-pickle runs it as it is).")
    if outcome.held_by:
        typer.echo(f"Not started: {outcome.held_by}.")
    elif outcome.not_started:
        typer.echo(f"Not started because of failures: {len(outcome.not_started)} date(s) from "
                   f"{label(iso(min(outcome.not_started)))}; fix them and run the command again.")
    status = "done" if outcome.ok else "finished with problems"
    typer.echo(f"Backfill {status} for DAG {plan.full_dag.dag_id}: {outcome.runs_done} of "
               f"{len(plan.dates)} run(s) finished in {elapsed:.1f}s.")
