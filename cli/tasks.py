"""`ledgerflow tasks states | states-for-dag-run | clear`."""

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
