"""`ledgerflow tasks states | states-for-dag-run | clear | list | logs`."""

from __future__ import annotations

from typing import Annotated

import typer

from ledgerflow.cli.clear import clear as clear_command
from ledgerflow.cli.common import (
    AsOfOpt,
    EndOpt,
    Output,
    OutputOpt,
    StartOpt,
    SubdirOpt,
    command_group,
    domain_errors,
    emit,
    service,
    stale_views,
)

app = command_group("Task instances.")

TI_COLUMNS = ("dag_id", "run_id", "task_id", "logical_date", "state", "try_number", "max_tries")


@app.command()
def states(
    dag_id: str,
    start: StartOpt = None,
    end: EndOpt = None,
    task_regex: Annotated[str | None, typer.Option("-t", "--task-regex", help="Only matching task ids.")] = None,
    as_of: AsOfOpt = None,
    subdir: SubdirOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Task instance states of a DAG, by logical date."""
    with domain_errors():
        rows = service().task_states(dag_id, start=start, end=end, task_regex=task_regex, as_of=as_of,
                                     subdir=subdir)
    emit(rows, output, TI_COLUMNS)
    stale_views()


@app.command("states-for-dag-run")
def states_for_dag_run(dag_id: str, run_id: str, as_of: AsOfOpt = None,
                       output: OutputOpt = Output.table) -> None:
    """Task instance states of one run."""
    with domain_errors():
        rows = service().run_task_states(dag_id, run_id, as_of=as_of)
    emit(rows, output, TI_COLUMNS)
    stale_views()


app.command("clear")(clear_command)


@app.command("list")
def list_tasks(
    dag_id: str,
    tree: Annotated[bool, typer.Option("-t", "--tree", help="Show the dependencies as a tree.")] = False,
    subdir: SubdirOpt = None,
) -> None:
    """The DAG's task ids (sorted), or with --tree each root and what runs after it, indented."""
    with domain_errors():
        tasks = service().dag_tasks(dag_id, subdir)
    if not tree:
        for task_id in sorted(tasks):
            typer.echo(task_id)
        return
    upstream = {t for downstream in tasks.values() for t in downstream}

    def show(task_id: str, depth: int) -> None:
        typer.echo(f"{'    ' * depth}<Task({task_id})>")
        for child in tasks[task_id]:
            show(child, depth + 1)

    for root in [t for t in tasks if t not in upstream]:
        show(root, 0)


@app.command()
def logs(
    dag_id: str,
    run_id: str,
    task_id: str,
    try_number: Annotated[int | None, typer.Option("--try", "--try-number",
                                                   help="The try (default: the latest).")] = None,
) -> None:
    """Print the log of one try of a task instance."""
    with domain_errors():
        text = service().task_log(dag_id, run_id, task_id, try_number)
    typer.echo(text, nl=not text.endswith("\n"))
