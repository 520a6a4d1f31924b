"""Backfills as objects: `backfill create | list | show | pause | unpause | cancel`, driven by the scheduler."""

from __future__ import annotations

import pytest
from clear_support import scheduler
from dagfiles import backfill, cli, cli_json, event_count, make_dags, run_states, seed_run
from refusals import assert_refused

pytestmark = pytest.mark.usefixtures("sequential_executor")

SIX = ("--from-date", "2024-01-01", "--to-date", "2024-01-06")


def _create(dags, *args: str):
    return cli("backfill", "create", "--dag-id", "pychain", *args, "-S", str(dags.folder), "-y")


def _paused_pychain(tmp_path):
    """pychain catches up from 2024 when unpaused: paused, the scheduler runs only its backfills."""
    dags = make_dags(tmp_path, "pychain")
    assert cli("dags", "pause", "pychain", "-S", str(dags.folder)).exit_code == 0
    return dags


def test_a_created_backfill_is_driven_to_completion_by_the_scheduler_with_six_decisions(tmp_path):
    dags = _paused_pychain(tmp_path)
    result = _create(dags, *SIX, "--reason", "restate Q1")
    assert result.exit_code == 0, result.output
    assert "Created backfill 1 of pychain, 6 date(s): 6 created, 0 adopted, 0 skipped" in result.output
    [row] = cli_json("backfill", "list", "-o", "json")
    assert row["state"] == "running" and row["reprocess_behavior"] == "none" and row["completed_at"] is None
    done = scheduler(dags, "-n", "1")
    assert done.exit_code == 0, done.output
    assert run_states("pychain") == {f"2024-01-0{d}": "success" for d in range(1, 7)}
    [row] = cli_json("backfill", "list", "-o", "json")
    assert row["state"] == "completed" and row["completed_at"] is not None
    dates = cli_json("backfill", "show", "1", "-o", "json")
    assert [(d["logical_date"][:10], d["decision"], d["state"]) for d in dates] == [
        (f"2024-01-0{d}", "created", "success") for d in range(1, 7)]
    assert dates[0]["run_id"] == "backfill__2024-01-01T00:00:00+00:00"
