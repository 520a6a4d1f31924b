"""`ledgerflow audit log | show | verify | digest | export`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerflow.cli.common import (
    YesOpt,
    command_group,
    domain_errors,
    emit_json,
    emit_table,
    fail,
    printable,
    service,
    stale_views,
)

app = command_group("Who changed what, when and why; proof that the record is intact.")


class LogOutput(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


SinceOpt = Annotated[
    str | None, typer.Option("--since", help="Recorded at or after (UTC unless offset given).")
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Recorded at or before (UTC unless offset given).")
]
DEFAULT_LIMIT = 1000
TABLE_COLUMNS = ("seq", "recorded_at", "event", "dag_id", "run_id", "task_id", "change", "actor",
                 "reason", "operation")


def _for_people(row: dict[str, Any]) -> dict[str, Any]:
    """Table cells: the time to the second (UTC) and the change as `from -> to`."""
    shown = dict(row)
    shown["recorded_at"] = row["recorded_at"][:19].replace("T", " ")
    if row["from_state"] is not None or row["to_state"] is not None:
        shown["change"] = f"{row['from_state'] or 'none'} -> {row['to_state'] or 'none'}"
    shown["worker"] = (row.get("details") or {}).get("hostname")  # where the try that ended ran
    return shown


@app.command()
def log(
    dag_id: Annotated[str | None, typer.Option("--dag-id", help="Only this DAG.")] = None,
    task_id: Annotated[str | None, typer.Option("--task-id", help="Only this task.")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Only this run.")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor.")] = None,
    operation_id: Annotated[
        str | None, typer.Option("--operation-id", help="Only changes of this operation.")
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Only the newest N entries (0: all of them).")
    ] = DEFAULT_LIMIT,
    output: Annotated[
        LogOutput, typer.Option("-o", "--output", help="table, json or jsonl.")
    ] = LogOutput.table,
) -> None:
    """Every change of a run or task instance, oldest first, with actor, reason and operation."""
    with domain_errors():
        svc = service()
        rows = svc.audit_log(dag_id=dag_id, task_id=task_id, run_id=run_id, actor=actor,
                                   operation_id=operation_id, since=since, until=until, limit=limit or None)
        if limit and len(rows) == limit:
            left_out = svc.audit_count(dag_id=dag_id, task_id=task_id, run_id=run_id, actor=actor,
                                       operation_id=operation_id, since=since, until=until) - limit
            if left_out:
                typer.echo(f"{left_out} older entries left out; --limit 0 shows all of them.", err=True)
    if output is LogOutput.json:
        emit_json(rows)
    elif output is LogOutput.jsonl:
        for row in rows:
            sys.stdout.write(json.dumps(row) + "\n")
    elif rows:
        fixed = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id}  # said by the filter
        columns = [c for c in TABLE_COLUMNS if fixed.get(c) is None]
        emit_table([_for_people(r) for r in rows], columns)
    else:
        typer.echo("No audit entries.")
    stale_views()


@app.command()
def show(
    operation_id: Annotated[str, typer.Argument(help="Operation id, or a unique prefix of it.")],
    output: Annotated[
        LogOutput, typer.Option("-o", "--output", help="table or json.")
    ] = LogOutput.table,
) -> None:
    """One operation: command, arguments, actor, reason, host, version, times, outcome, changes."""
    with domain_errors():
        op = service().operation(operation_id)
    if output is not LogOutput.table:
        emit_json([op])
        stale_views()
        return
    for label, key in (("operation", "operation_id"), ("command", "command"),
                       ("arguments", "arguments"), ("actor", "actor"), ("reason", "reason"),
                       ("host", "host"), ("version", "ledgerflow_version"),
                       ("started", "started_at"), ("ended", "ended_at"), ("outcome", "outcome"),
                       ("summary", "summary")):
        value = op[key]
        text = json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value
        typer.echo(f"{label + ':':<11}{'' if text is None else printable(str(text))}")
    changes = op["changes"]
    typer.echo(f"changes:   {len(changes)}")
    if changes:
        emit_table([_for_people(c) for c in changes],
                   ("seq", "recorded_at", "event", "dag_id", "run_id", "task_id", "change",
                    "try_number", "worker"))
    stale_views()


# Reads are bounded, so a file that never ends (/dev/zero, a pipe) is refused, not read forever.
DIGEST_CHARS = 64 * 1024  # a digest is one line of about 150 characters
LINE_CHARS = 64 * 1024 * 1024  # one exported event, however many task instances it changed


def _lines(path: Path, what: str, limit: int) -> Iterator[str]:
    """The file's lines as they are read, each at most `limit` characters."""
    from ledgerflow.engine.errors import BadDigest

    try:
        with path.open(encoding="utf-8", newline="") as handle:  # CSV rows keep their own line ends
            while line := handle.readline(limit + 1):
                if len(line) > limit:
                    raise BadDigest(f"{what} {path} has a line longer than {limit} characters")
                yield line
    except OSError as exc:
        raise BadDigest(f"cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BadDigest(f"{what} {path} is not UTF-8 text") from None


def _read_digest(path: Path) -> str:
    from ledgerflow.engine.errors import BadDigest

    text = ""
    for line in _lines(path, "digest", DIGEST_CHARS):
        text += line
        if len(text) > DIGEST_CHARS:
            raise BadDigest(f"digest {path} is longer than {DIGEST_CHARS} characters: not a digest")
    return text


@app.command()
def verify(
    digest: Annotated[Path | None, typer.Option(
        "--digest", help="A digest saved by `audit digest`: also prove the log still extends it."
    )] = None,
    export: Annotated[Path | None, typer.Option(
        "--export", help="Verify this export file on its own instead of the database."
    )] = None,
    views: Annotated[bool | None, typer.Option(
        "--views/--no-views", help="Also check that the views (runs, task instances, pools, operations, "
        "audit entries) equal a fold of the events (default: yes, unless --export)."
    )] = None,
) -> None:
    """Recompute the hash chain and fold the events again; exit 1 naming what was altered."""
    with domain_errors():
        if export is not None and views:
            raise fail("--views checks the database's views; an --export file has none", 2)
        svc = service()
        head = svc.read_digest(_read_digest(digest)) if digest else None
        if export is not None:
            report, anchor = svc.verify_export(_lines(export, "export", LINE_CHARS), head)
            what, check = f"Export {export}", None
        else:
            report, anchor = svc.verify_store(head), None
            what = "Audit log"
            check = svc.verify_views() if views is not False else None
    intact = _say_chain(what, report, anchor, head)
    if check is not None:
        intact = _say_views(check) and intact
    if not intact:
        raise typer.Exit(1)


def _say_chain(what: str, report: Any, anchor: bytes | None, head: Any) -> bool:
    if not report.intact:
        where = f" at position {report.position}" if report.position is not None else ""
        typer.echo(f"{what} FAILED verification{where}: {report.problem}")
        typer.echo(f"{report.count} events verified before it.")
        return False
    typer.echo(f"{what} intact: {report.count} events, head position {report.head.position} "
               f"sha256 {report.head.hash.hex()}")
    if anchor is not None:
        typer.echo(f"Anchored on the hash before its first event: {anchor.hex()}")
    if head is not None:
        typer.echo(f"Extends the digest at position {head.position}.")
    return True


def _say_views(check: Any) -> bool:
    behind = f", {check.head - check.position} events behind the log" if check.head > check.position else ""
    if not check.intact:
        count = sum(n for _, n in check.kinds.values())
        typer.echo(f"Views FAILED verification at position {check.position}{behind}: {count} "
                   f"discrepancies with a fold of the events")
        for line in check.lines():
            typer.echo(printable(line))
        return False
    rows = check.rows
    typer.echo(f"Views match the events up to position {check.position}{behind}: "
               f"{rows['dag_run']} runs, {rows['task_instance']} task instances, {rows['pool']} pools, "
               f"{rows['operation']} operations, {rows['audit_entry']} audit entries.")
    return True


@app.command()
def digest() -> None:
    """Print the chain head (position and hash) to keep outside the database."""
    with domain_errors():
        line = service().digest()
    typer.echo(line)


@app.command()
def export(
    file: Annotated[str, typer.Argument(help="Output file, or - for standard output.")],
    since: SinceOpt = None,
    until: UntilOpt = None,
    output: Annotated[
        ExportFormat | None, typer.Option("-o", "--output", help="jsonl or csv (default: from the file name).")
    ] = None,
    yes: YesOpt = False,
) -> None:
    """Write the events recorded in a time range with their chain hashes (verifiable alone)."""
    fmt = (output or (ExportFormat.csv if file.lower().endswith(".csv") else ExportFormat.jsonl)).value
    with domain_errors():
        svc = service()
        if file == "-":
            count = svc.export(sys.stdout, fmt, since=since, until=until)
        else:
            if Path(file).exists() and not yes:
                raise fail(f"{file} exists; pass -y to overwrite it", 2)
            try:
                with open(file, "w", encoding="utf-8", newline="") as out:
                    count = svc.export(out, fmt, since=since, until=until)
            except OSError as exc:
                raise fail(f"cannot write {file}: {exc.strerror}", 2) from None
    typer.echo(f"Exported {count} events to {file}.", err=file == "-")
