"""Clearing a depends_on_past task before later finished runs: refused unless --future or --break-lineage."""

from __future__ import annotations

import pytest
from clear_support import DOP, backfilled, clear, run_events, scheduler
from dagfiles import backfill, event_count, query, states

pytestmark = pytest.mark.usefixtures("sequential_executor")


@pytest.fixture
def dop(tmp_path):
    """dop (p depends_on_past >> q), successful for 2024-01-01 .. 2024-01-03."""
    return backfilled(tmp_path, "dop", DOP, "-s", "2024-01-01", "-e", "2024-01-03")


def test_clearing_an_earlier_depends_on_past_instance_is_refused_naming_task_and_later_runs(dop, database_url):
    before = event_count(database_url)
    result = clear(dop, "dop", "-s", "2024-01-01", "-e", "2024-01-01", "-t", "^p$", "-y")
    assert result.exit_code == 2, result.output
    assert "dop.p (depends_on_past)" in result.output
    assert "backfill__2024-01-02T00:00:00+00:00" in result.output
    assert "backfill__2024-01-03T00:00:00+00:00" in result.output
    assert "--future" in result.output and "--break-lineage" in result.output
    assert event_count(database_url) == before
    assert set(states("dop").values()) == {"success"}


def test_the_dry_run_makes_the_same_check(dop, database_url):
    before = event_count(database_url)
    result = clear(dop, "dop", "-s", "2024-01-01", "-e", "2024-01-01", "-t", "^p$", "--dry-run")
    assert result.exit_code == 2
    assert "depends_on_past" in result.output
    assert event_count(database_url) == before


def test_future_extends_the_clear_to_the_later_runs_and_is_accepted(dop):
    result = clear(dop, "dop", "-s", "2024-01-01", "-e", "2024-01-01", "-t", "^p$", "--future", "-y")
    assert result.exit_code == 0, result.output
    got = states("dop")
    assert [got[("p", d)] for d in ("2024-01-01", "2024-01-02", "2024-01-03")] == [None, None, None]
    assert {got[("q", d)] for d in ("2024-01-01", "2024-01-02", "2024-01-03")} == {"success"}


def test_clearing_the_latest_run_breaks_no_lineage(dop):
    result = clear(dop, "dop", "-s", "2024-01-03", "-e", "2024-01-03", "-t", "^p$", "-y")
    assert result.exit_code == 0, result.output


def test_a_task_without_depends_on_past_is_never_refused(dop):
    result = clear(dop, "dop", "-s", "2024-01-01", "-e", "2024-01-01", "-t", "^q$", "-y")
    assert result.exit_code == 0, result.output


def test_later_finished_runs_left_out_by_a_state_filter_still_count_as_broken(dop):
    dop.fail("p", "2024-01-04")
    backfill(dop, "dop", "-s", "2024-01-04", "-e", "2024-01-04")
    dop.heal("p", "2024-01-04")
    assert backfill(dop, "dop", "-s", "2024-01-05", "-e", "2024-01-05", "-I").exit_code == 0
    assert states("dop")[("p", "2024-01-05")] == "success"
    refused = clear(dop, "dop", "-s", "2024-01-04", "-f", "--future", "-y")
    assert refused.exit_code == 2
    assert "backfill__2024-01-05T00:00:00+00:00" in refused.output
    assert clear(dop, "dop", "-s", "2024-01-04", "--future", "-y").exit_code == 0


def test_break_lineage_needs_a_reason(dop, database_url):
    before = event_count(database_url)
    result = clear(dop, "dop", "-s", "2024-01-01", "-e", "2024-01-01", "-t", "^p$", "--break-lineage", "-y")
    assert result.exit_code == 2
    assert "--reason" in result.output
    assert event_count(database_url) == before


def test_break_lineage_clears_only_the_selection_and_records_the_accepted_break(dop, database_url):
    result = clear(dop, "dop", "-s", "2024-01-01", "-e", "2024-01-01", "-t", "^p$", "--break-lineage",
                   "--reason", "vendor restated 01-01 only", "-y")
    assert result.exit_code == 0, result.output
    assert "Lineage break accepted and recorded" in result.output
    got = states("dop")
    assert [got[("p", d)] for d in ("2024-01-01", "2024-01-02", "2024-01-03")] == [None, "success", "success"]
    [cleared] = run_events(database_url, "Cleared")
    [change] = cleared["changes"]
    assert cleared["reason"] == "vendor restated 01-01 only"
    assert change["lineage_break_accepted"] == {
        "later_runs": 2,
        "later_run_ids": ["backfill__2024-01-02T00:00:00+00:00", "backfill__2024-01-03T00:00:00+00:00"],
    }
    [op] = query(database_url, "SELECT arguments, summary FROM operation WHERE name = 'tasks clear'")
    assert op["arguments"]["break_lineage"] is True
    assert op["summary"]["lineage_breaks_accepted"] == ["dop.p"]
    audit = query(database_url, "SELECT details FROM audit_entry WHERE event = 'Cleared' AND task_id = 'p'")
    assert "lineage_break_accepted" in audit[0]["details"]


def test_the_cleared_runs_rerun_in_order_under_the_scheduler(dop):
    clear(dop, "dop", "-s", "2024-01-02", "-e", "2024-01-02", "--future", "-y")
    dop.forget()
    result = scheduler(dop, "-n", "1")
    assert result.exit_code == 0, result.output
    lines = dop.lines()
    assert lines.index("p 2024-01-02") < lines.index("p 2024-01-03")
    assert "p 2024-01-01" not in lines
    assert set(states("dop").values()) == {"success"}
