"""`ledgerflow audit log | show | verify | digest | export`."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from ledgerflow.cli.common import CONTEXT, domain_errors, emit_json, emit_table, fail, ledger

app = typer.Typer(help="Who changed what, when and why; proof that the record is intact.",
                  context_settings=CONTEXT, no_args_is_help=True)


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
TABLE_COLUMNS = ("seq", "recorded_at", "event", "dag_id", "run_id", "task_id", "change", "actor",
                 "reason", "operation")


def _for_people(row: dict[str, Any]) -> dict[str, Any]:
    """Table cells: the time to the second (UTC) and the change as `from -> to`."""
    shown = dict(row)
    shown["recorded_at"] = row["recorded_at"][:19].replace("T", " ")
    if row["from_state"] is not None or row["to_state"] is not None:
        shown["change"] = f"{row['from_state'] or 'none'} -> {row['to_state'] or 'none'}"
    return shown


def _instant(text: str | None, option: str):  # type: ignore[no-untyped-def]
    from ledgerflow.engine.domain.dates import parse_date

    return parse_date(text, "UTC", option=option) if text else None


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
        int | None, typer.Option("--limit", min=1, help="Only the newest N entries.")
    ] = None,
    output: Annotated[
        LogOutput, typer.Option("-o", "--output", help="table, json or jsonl.")
    ] = LogOutput.table,
) -> None:
    """Every change of a run or task instance, oldest first, with actor, reason and operation."""
    from ledgerflow.projections.audit_queries import LogFilter
    from ledgerflow.projections.audit_queries import log as query

    with domain_errors():
        f = LogFilter(dag_id=dag_id, task_id=task_id, run_id=run_id, actor=actor,
                      operation_id=operation_id, since=_instant(since, "--since"),
                      until=_instant(until, "--until"), limit=limit)
        rows = query(ledger(), f)
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


@app.command()
def show(
    operation_id: Annotated[str, typer.Argument(help="Operation id, or a unique prefix of it.")],
    output: Annotated[
        LogOutput, typer.Option("-o", "--output", help="table or json.")
    ] = LogOutput.table,
) -> None:
    """One operation: command, arguments, actor, reason, host, version, times, outcome, changes."""
    from ledgerflow.projections.audit_queries import show as query

    with domain_errors():
        op = query(ledger(), operation_id)
    if output is not LogOutput.table:
        emit_json([op])
        return
    for label, key in (("operation", "operation_id"), ("command", "command"),
                       ("arguments", "arguments"), ("actor", "actor"), ("reason", "reason"),
                       ("host", "host"), ("version", "ledgerflow_version"),
                       ("started", "started_at"), ("ended", "ended_at"), ("outcome", "outcome"),
                       ("summary", "summary")):
        value = op[key]
        text = json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value
        typer.echo(f"{label + ':':<11}{'' if text is None else text}")
    changes = op["changes"]
    typer.echo(f"changes:   {len(changes)}")
    if changes:
        emit_table([_for_people(c) for c in changes],
                   ("seq", "recorded_at", "event", "dag_id", "run_id", "task_id", "change",
                    "try_number"))


def _read_digest(path: Path):  # type: ignore[no-untyped-def]
    from ledgerflow.engine.audit.verify import read_digest
    from ledgerflow.engine.errors import BadDigest

    try:
        return read_digest(path.read_text())
    except OSError as exc:
        raise BadDigest(f"cannot read digest {path}: {exc.strerror}") from None


def _verify_export(path: Path, digest: Any) -> Any:
    from ledgerflow.engine.audit import export as chain_export
    from ledgerflow.engine.errors import BadDigest

    try:
        with path.open(encoding="utf-8", newline="") as handle:
            report, anchor = chain_export.verify(chain_export.read(handle), digest)
    except OSError as exc:
        raise BadDigest(f"cannot read export {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BadDigest(f"export {path} is not UTF-8 text") from None
    return report, anchor


@app.command()
def verify(
    digest: Annotated[Path | None, typer.Option(
        "--digest", help="A digest saved by `audit digest`: also prove the log still extends it."
    )] = None,
    export: Annotated[Path | None, typer.Option(
        "--export", help="Verify this export file on its own instead of the database."
    )] = None,
) -> None:
    """Recompute the hash chain; exit 1 naming the first bad position if anything was altered."""
    from ledgerflow.engine.audit.verify import verify_store

    with domain_errors():
        head = _read_digest(digest) if digest else None
        if export is not None:
            report, anchor = _verify_export(export, head)
            what = f"Export {export}"
        else:
            report, anchor = verify_store(ledger(catch_up=False), head), None
            what = "Audit log"
    if not report.intact:
        where = f" at position {report.position}" if report.position is not None else ""
        typer.echo(f"{what} FAILED verification{where}: {report.problem}")
        typer.echo(f"{report.count} events verified before it.")
        raise typer.Exit(1)
    typer.echo(f"{what} intact: {report.count} events, head position {report.head.position} "
               f"sha256 {report.head.hash.hex()}")
    if anchor is not None:
        typer.echo(f"Anchored on the hash before its first event: {anchor.hex()}")
    if head is not None:
        typer.echo(f"Extends the digest at position {head.position}.")


@app.command()
def digest() -> None:
    """Print the chain head (position and hash) to keep outside the database."""
    from ledgerflow.engine.audit.verify import digest_line, stored_head

    with domain_errors():
        head, recorded_at = stored_head(ledger(catch_up=False))
    typer.echo(digest_line(head, recorded_at))


@app.command()
def export(
    file: Annotated[str, typer.Argument(help="Output file, or - for standard output.")],
    since: SinceOpt = None,
    until: UntilOpt = None,
    output: Annotated[
        ExportFormat, typer.Option("-o", "--output", help="jsonl or csv.")
    ] = ExportFormat.jsonl,
) -> None:
    """Write the events recorded in a time range with their chain hashes (verifiable alone)."""
    from ledgerflow.engine.audit import export as chain_export

    with domain_errors():
        lo, hi = _instant(since, "--since"), _instant(until, "--until")
        led = ledger(catch_up=False)
        rows = chain_export.records(led, lo, hi)
        if file == "-":
            count = chain_export.write(rows, sys.stdout, output.value)
        else:
            try:
                with open(file, "w", encoding="utf-8", newline="") as out:
                    count = chain_export.write(rows, out, output.value)
            except OSError as exc:
                raise fail(f"cannot write {file}: {exc.strerror}", 2) from None
    typer.echo(f"Exported {count} events to {file}.", err=file == "-")
