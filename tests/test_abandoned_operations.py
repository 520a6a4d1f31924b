"""An operation whose process was killed does not stay without an outcome (issue 10 item 1)."""

from __future__ import annotations

import json
import signal

import pytest
from dagfiles import backfill, cli_json, events, make_dags, query, spawn_backfill, wait_for

RANGE = ("-s", "2024-01-01", "-e", "2024-01-20")  # long enough to be killed while it runs


@pytest.fixture(autouse=True)
def _local(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "local")
    monkeypatch.setenv("LEDGERFLOW_PARALLELISM", "3")


def _killed_backfill(dags, database_url) -> tuple[str, int]:
    """(operation id, pid) of a backfill killed with kill -9 while it ran tries."""
    proc = spawn_backfill(dags, database_url, "sleepy", *RANGE)
    wait_for(dags.lines, what="a try to finish")
    [started] = events(database_url, "Operation.Started")
    live = cli_json("audit", "show", str(started["originator_id"]), "-o", "json")[0]
    assert live["outcome"] is None  # its process lives: nobody may close it
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return str(started["originator_id"]), proc.pid


def test_audit_show_closes_an_operation_whose_process_was_killed_as_abandoned(tmp_path, database_url):
    dags = make_dags(tmp_path, "sleepy")
    op_id, pid = _killed_backfill(dags, database_url)
    shown = cli_json("audit", "show", op_id, "-o", "json")[0]
    assert shown["outcome"] == "abandoned"
    assert shown["ended_at"] is not None
    assert f":{pid}:" in json.dumps(shown["summary"])
    again = cli_json("audit", "show", op_id, "-o", "json")[0]
    assert (again["outcome"], again["ended_at"]) == ("abandoned", shown["ended_at"])  # closed once
    assert len([e for e in events(database_url, "Operation.Ended") if str(e["originator_id"]) == op_id]) == 1


def test_the_resumed_backfill_closes_the_killed_one_before_it_plans(tmp_path, database_url):
    dags = make_dags(tmp_path, "sleepy")
    op_id, _ = _killed_backfill(dags, database_url)
    result = backfill(dags, "sleepy", *RANGE)
    assert result.exit_code == 0, result.output
    rows = query(database_url, "SELECT operation_id::text AS id, outcome FROM operation ORDER BY started_at")
    assert [(r["id"], r["outcome"]) for r in rows][0] == (op_id, "abandoned")
    assert [r["outcome"] for r in rows][1:] == ["success"]
