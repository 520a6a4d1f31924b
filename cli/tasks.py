"""`ledgerflow tasks states | states-for-dag-run | clear`."""

from __future__ import annotations

from typing import Annotated

import typer
from ledgerflow.cli.clear import clear as clear_command
from ledgerflow.cli.common import (
    CONTEXT,
    AsOfOpt,
    EndOpt,
    Output,
    OutputOpt,
    StartOpt,
    SubdirOpt,
    date_range,
    domain_errors,
    emit,
    ledger,
)

app = typer.Typer(help="Task instances.", context_settings=CONTEXT, no_args_is_help=True)

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
    import re

    from ledgerflow.engine.domain.dates import parse_date
    from ledgerflow.engine.errors import InvalidInput
    from ledgerflow.projections.queries import task_states

    with domain_errors():
        lo, hi = date_range(dag_id, subdir, start, end)
        if task_regex is not None:
            try:
                re.compile(task_regex)
            except re.error as exc:
                raise InvalidInput(f"invalid --task-regex {task_regex!r}: {exc}") from None
        if as_of is None:
            rows = task_states(ledger(), dag_id, lo, hi, task_regex)
        else:
            from ledgerflow.projections.as_of import runs_as_of, task_rows

            when = parse_date(as_of, "UTC", option="--as-of")
            rows = task_rows(runs_as_of(ledger(), dag_id, when, lo, hi), task_regex)
    emit(rows, output, TI_COLUMNS)


@app.command("states-for-dag-run")
def states_for_dag_run(dag_id: str, run_id: str, as_of: AsOfOpt = None,
                       output: OutputOpt = Output.table) -> None:
    """Task instance states of one run."""
    from ledgerflow.engine.errors import RunNotFound
    from ledgerflow.projections.queries import run_exists, task_states

    with domain_errors():
        led = ledger()
        if as_of is not None:
            from ledgerflow.engine.domain.dates import parse_date
            from ledgerflow.projections.as_of import runs_as_of, task_rows

            when = parse_date(as_of, "UTC", option="--as-of")
            runs = runs_as_of(led, dag_id, when, run_id=run_id)
            if not runs:
                raise RunNotFound(f"DAG {dag_id!r} had no run {run_id!r} as of {as_of}")
            rows = task_rows(runs)
        elif not run_exists(led, dag_id, run_id):
            raise RunNotFound(f"DAG {dag_id!r} has no run {run_id!r}")
        else:
            rows = task_states(led, dag_id, run_id=run_id)
    emit(rows, output, TI_COLUMNS)


app.command("clear")(clear_command)
