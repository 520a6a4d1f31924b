"""Shared CLI plumbing: options, error translation, output, confirmation prompts."""

from __future__ import annotations

import json
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ledgerflow.engine.application.service import Ledgerflow

CONTEXT = {"help_option_names": ["-h", "--help"]}


def command_group(help_text: str) -> typer.Typer:
    """A group of commands: `-h` as well as `--help`, help when called bare, and plain help text
    (rich's boxed tables truncate long flags on 80 columns and show a <bool> for every flag)."""
    return typer.Typer(help=help_text, context_settings=CONTEXT, no_args_is_help=True, rich_markup_mode=None)


class Output(StrEnum):
    table = "table"
    json = "json"


OutputOpt = Annotated[Output, typer.Option("-o", "--output", help="table for people, json for programs.")]
SubdirOpt = Annotated[
    Path | None,
    typer.Option("-S", "--subdir", help="DAG file or folder (default: LEDGERFLOW_DAGS_FOLDER or ./dags)."),
]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why: recorded with every event.")]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="Who: default LEDGERFLOW_ACTOR, else the OS user.")]
YesOpt = Annotated[bool, typer.Option("-y", "--yes", help="Do not ask for confirmation.")]
StartOpt = Annotated[
    str | None, typer.Option("-s", "--start-date", help="Start (inclusive), YYYY-MM-DD[THH:MM:SS][+HH:MM].")
]
EndOpt = Annotated[str | None, typer.Option("-e", "--end-date", help="End (inclusive), YYYY-MM-DD[THH:MM:SS][+HH:MM].")]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Show the state as recorded at this instant (UTC unless an offset is given)."),
]


# The command line's names for the domain's words in messages (engine.errors.Term); a hint
# is a place where the domain says nothing and the command line names the flag.
FLAGS = {
    "start_date": "-s", "end_date": "-e", "logical_date": "-e", "start_date_hint": " (-s)", "end_date_hint": " (-e)",
    "from_date": "--from-date", "to_date": "--to-date",
    "as_of": "--as-of", "since": "--since", "until": "--until", "conf": "--conf",
    "task_regex": "--task-regex", "dag_regex": "--dag-regex", "reason": "--reason", "actor": "--actor",
    "limit": "--limit", "run_id": "run_id (-r/--run-id)",
    "delay_on_limit": "--delay-on-limit", "num_runs": "--num-runs", "break_lineage": "--break-lineage",
    "future": "--future", "run_backwards": "-B", "allow_broken_chain": "--allow-broken-chain",
    "max_active_runs": "--max-active-runs", "reprocess_behavior": "--reprocess-behavior failed or completed",
    "ignore_first_depends_on_past": "pass -I/--ignore-first-depends-on-past",
    "create_pool": "create it with `ledgerflow pools set NAME SLOTS`",
    "scheduler": "`ledgerflow scheduler`", "backfill": "`ledgerflow dags backfill`", "exclude_parentdag": "-X",
}


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turns domain errors into one line on stderr and an exit code; never a traceback."""
    from ledgerflow.engine.errors import ConcurrentModification, DatabaseUnavailable, InvalidInput, ViewsStuck

    try:
        yield
    except InvalidInput as exc:
        raise fail(exc.say(FLAGS), 2) from None
    except (ConcurrentModification, DatabaseUnavailable, ViewsStuck) as exc:
        raise fail(exc.say(FLAGS), 1) from None


@contextmanager
def stopped_by_signals() -> Iterator[threading.Event]:
    """SIGTERM and SIGINT set the event a driver polls: it stops between appends, never inside one.
    A database wait in progress then gets a short grace and ends, so a signal is never ignored
    behind a database that does not answer."""
    from ledgerflow.engine.application.service import stoppable

    stop = threading.Event()
    with stoppable() as request_stop:

        def requested(*_: object) -> None:
            stop.set()
            request_stop()

        previous = {sig: signal.signal(sig, requested) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield stop
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


_OPENED: list[Ledgerflow] = []


def service() -> Ledgerflow:
    """The application service for this command, closed when the command ends (close_services),
    so a process that runs many commands, such as a test session, does not keep their connections."""
    from ledgerflow.engine.application.service import Ledgerflow

    svc = Ledgerflow()
    _OPENED.append(svc)
    return svc


def stale_views() -> None:
    """Ends a read whose rows came from views that stop before an event they cannot fold:
    the rows were shown, then that event's line, and exit 1."""
    for svc in _OPENED:
        if svc.stale is not None:
            raise fail(svc.stale.say(FLAGS), 1)


def close_services() -> None:
    while _OPENED:
        _OPENED.pop().close()


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def printable(text: str, *, lines: bool = False) -> str:
    """Control characters shown escaped (ESC as the four characters \\x1b), so text a user gave,
    such as a reason or an actor, cannot drive the terminal; `lines` keeps newlines (a table cell)."""
    return (_CONTROL_BUT_NEWLINE if lines else _CONTROL).sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def emit_json(rows: Sequence[dict[str, Any]]) -> None:
    sys.stdout.write(json.dumps(list(rows), default=str) + "\n")


def emit_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def cell(value: Any) -> Text:
        """Plain printable text, never rich markup: a conf or run id may contain [brackets]."""
        if value is None:
            return Text("")
        return Text(printable(json.dumps(value) if isinstance(value, dict | list) else str(value), lines=True))

    table = Table(title=title)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(cell(row.get(c)) for c in columns))
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def emit(rows: Sequence[dict[str, Any]], output: Output, columns: Sequence[str]) -> None:
    if output is Output.json:
        emit_json(rows)
    elif rows:
        emit_table(rows, columns)
    else:
        typer.echo("No rows.")


def confirm(question: str) -> bool:
    """Asks y/yes/n/no (case-insensitive) until answered; EOF counts as no."""
    while True:
        typer.echo(f"{question} [y/n] ", nl=False)
        answer = sys.stdin.readline()
        if not answer:
            typer.echo("")
            return False
        answer = answer.strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        typer.echo("Please respond with y/yes or n/no.")
