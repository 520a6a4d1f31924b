"""Entry point: `ledgerflow` and its command groups."""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import Annotated, NoReturn

import typer

from ledgerflow.cli import audit, backfill_group, celery_worker, dags, db, pools, projections, tasks, users
from ledgerflow.cli.api_server import api_server
from ledgerflow.cli.common import CONTEXT, close_services
from ledgerflow.cli.scheduler import scheduler

app = typer.Typer(
    name="ledgerflow",
    help="Event-sourced backfill and clear for Airflow-style DAGs, with an immutable audit log.",
    context_settings=CONTEXT,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(dags.app, name="dags")
app.add_typer(tasks.app, name="tasks")
app.add_typer(projections.app, name="projections")
app.add_typer(pools.app, name="pools")
app.add_typer(audit.app, name="audit")
app.add_typer(users.app, name="users")
app.add_typer(backfill_group.app, name="backfill")
app.add_typer(celery_worker.app, name="celery")
app.command("scheduler", context_settings=CONTEXT)(scheduler)
app.command("api-server", context_settings=CONTEXT)(api_server)


def _version(value: bool) -> None:
    if value:
        from ledgerflow.engine.application.service import version

        typer.echo(f"ledgerflow {version()}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Event-sourced backfill and clear for Airflow-style DAGs."""
    ctx.call_on_close(close_services)


def main() -> None:
    """The console script: usage errors are one line on stderr with exit code 2, like every refusal."""
    try:
        _run()
    except SystemExit as ending:
        if _lingering_threads():
            _exit_now(ending.code)
        raise


def _run() -> NoReturn:
    from typer._click import exceptions as click_errors  # typer's bundled click

    try:
        code = app(standalone_mode=False)
    except click_errors.ClickException as exc:
        if type(exc).__name__ != "NoArgsIsHelpError":  # the help was printed already
            typer.echo(f"Error: {exc.format_message()}", err=True)
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        raise SystemExit(1) from None
    except Exception as exc:  # a database that failed us is one line, wherever it happened; a bug is not
        from ledgerflow.engine.application.service import database_problem

        problem = database_problem(exc)
        if problem is None:
            raise
        typer.echo(f"Error: {problem}", err=True)
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _lingering_threads() -> bool:
    """A thread that is not a daemon would keep the process alive once the command ended: one
    that a DAG file started while it loaded, which ledgerflow neither knows nor can stop."""
    return any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread())


def _exit_now(code: object) -> NoReturn:
    """Exits without waiting for the threads, once the exit handlers ran and the output is flushed."""
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code or 0)
