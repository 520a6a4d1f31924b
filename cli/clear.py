"""`ledgerflow tasks clear`: parse, plan, list, confirm, clear, say who runs it next."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledgerflow.cli.common import (
    FLAGS,
    ActorOpt,
    EndOpt,
    ReasonOpt,
    StartOpt,
    SubdirOpt,
    YesOpt,
    confirm,
    domain_errors,
    service,
)

if TYPE_CHECKING:
    from ledgerflow.engine.application.service import ClearPlan

GROUP_ABOVE = 40
PARENT_HELP = "Clearing a sub-DAG: do not clear the parent's SubDagTask and its downstream."
LINEAGE_HELP = (
    "Accept that later depends_on_past runs keep results built on a cleared past "
    "(recorded; needs --reason)."
)
TaskRegexOpt = Annotated[
    str | None, typer.Option("-t", "--task-regex", help="Only tasks whose id matches (unanchored search).")
]
DagRegexOpt = Annotated[
    bool, typer.Option("-R", "--dag-regex", help="Treat DAG_ID as a regex over the DAG folder's DAGs.")
]
UpstreamOpt = Annotated[bool, typer.Option("-u", "--upstream", help="With -t, add every upstream task.")]
DownstreamOpt = Annotated[bool, typer.Option("-d", "--downstream", help="With -t, add every downstream task.")]
OnlyFailedOpt = Annotated[
    bool, typer.Option("-f", "--only-failed", help="Only failed and upstream_failed task instances.")
]
OnlyRunningOpt = Annotated[
    bool, typer.Option("-r", "--only-running", help="Only running task instances (they restart).")
]
ExcludeSubdagsOpt = Annotated[
    bool, typer.Option("-x", "--exclude-subdags", help="Do not clear sub-DAG runs of cleared SubDagTasks.")
]
ExcludeParentdagOpt = Annotated[bool, typer.Option("-X", "--exclude-parentdag", help=PARENT_HELP)]
FutureOpt = Annotated[
    bool, typer.Option("--future", help="Also every later run of the selected tasks (no upper bound).")
]
PastOpt = Annotated[
    bool, typer.Option("--past", help="Also every earlier run of the selected tasks (no lower bound).")
]
BreakLineageOpt = Annotated[bool, typer.Option("--break-lineage", help=LINEAGE_HELP)]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="List what would be cleared; write nothing.")]


def clear(
    dag_id: Annotated[str, typer.Argument(help="DAG id (a regex with -R).")],
    task_regex: TaskRegexOpt = None,
    dag_regex: DagRegexOpt = False,
    upstream: UpstreamOpt = False,
    downstream: DownstreamOpt = False,
    start: StartOpt = None,
    end: EndOpt = None,
    only_failed: OnlyFailedOpt = False,
    only_running: OnlyRunningOpt = False,
    exclude_subdags: ExcludeSubdagsOpt = False,
    exclude_parentdag: ExcludeParentdagOpt = False,
    future: FutureOpt = False,
    past: PastOpt = False,
    break_lineage: BreakLineageOpt = False,
    subdir: SubdirOpt = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="List the task instances even with -y.")] = False,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Set task instances back to no state (running ones restart), as `airflow tasks clear`."""
    from ledgerflow.engine.application.commands import ClearTaskInstances

    cmd = ClearTaskInstances(
        dag_id=dag_id, dag_regex=dag_regex, task_regex=task_regex, upstream=upstream,
        downstream=downstream, start=start, end=end, only_failed=only_failed,
        only_running=only_running, exclude_subdags=exclude_subdags,
        exclude_parentdag=exclude_parentdag, future=future, past=past,
        break_lineage=break_lineage, subdir=subdir, dry_run=dry_run, yes=yes, reason=reason,
        actor=actor,
    )
    with domain_errors():
        svc = service()
        plan = svc.plan_clear(cmd)
        for note in plan.selection.notes:
            typer.echo(note, err=True)
        if not plan.runs:
            typer.echo("Nothing to clear.")
            return
        if dry_run:
            _list(plan, "Dry run: these {n} task instance(s) would be cleared")
            _lineage(plan)
            typer.echo("Dry run: nothing was cleared.")
            return
        if yes and verbose:
            _list(plan, "Clearing these {n} task instance(s)")
            _lineage(plan)
        if not yes:
            _list(plan, "You are about to clear these {n} task instance(s)")
            _lineage(plan)
            if not confirm("Are you sure?"):
                typer.echo("Cancelled, nothing was cleared.")
                raise typer.Exit(1)
        result = svc.clear(plan)
    done = result.plan
    typer.echo(
        f"Cleared {done.task_instances} task instance(s) in {len(done.runs)} run(s)"
        f" ({done.restarting} restarting); {len(done.queued)} run(s) moved to queued."
    )
    for brk in done.breaks:
        typer.echo(f"Lineage break accepted and recorded: {brk.describe()}")
    for line in result.next_steps:
        typer.echo(f"Next: {line.say(FLAGS)}")


def _list(plan: ClearPlan, title: str) -> None:
    n = plan.task_instances
    if n <= GROUP_ABOVE:
        typer.echo(title.format(n=n) + ":")
        for rc in plan.runs:
            for c in rc.changes:
                typer.echo(f"<TaskInstance: {rc.run.dag_id}.{c['task_id']} {rc.run.run_id} "
                           f"[{c['from'] or 'none'}]>" + _arrow(c))
    else:
        typer.echo(title.format(n=n) + f", in {len(plan.runs)} runs:")
        for rc in plan.runs:
            tis = ", ".join(f"{c['task_id']} [{c['from'] or 'none'}]" for c in rc.changes)
            typer.echo(f"{rc.run.dag_id} {rc.run.run_id} [{rc.run_from}]: {tis}")
    typer.echo("")


def _arrow(change: dict[str, Any]) -> str:
    return " -> restarting" if change["to"] == "restarting" else ""


def _lineage(plan: ClearPlan) -> None:
    for brk in plan.breaks:
        typer.echo(f"Lineage break accepted (--break-lineage): {brk.describe()}")
