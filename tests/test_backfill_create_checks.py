"""`backfill create` refuses up front in its own words: its flags' names, and depends_on_past over the whole range."""

from __future__ import annotations

import pytest
from dagfiles import cli, cli_json, event_count, make_dags, seed_run
from refusals import assert_refused

pytestmark = pytest.mark.usefixtures("sequential_executor")


def _create(dags, dag_id: str, start: str, end: str, *args: str):
    return cli("backfill", "create", "--dag-id", dag_id, "--from-date", start, "--to-date", end, *args,
               "-S", str(dags.folder), "-y")


@pytest.mark.parametrize(("start", "end", "needles"), [
    ("notadate", "2024-01-02", ("invalid --from-date 'notadate'",)),
    ("2024-01-01", "2024-13-45", ("invalid --to-date '2024-13-45'",)),
    ("2024-01-06", "2024-01-01", ("--to-date 2024-01-01", "is before --from-date 2024-01-06")),
])
def test_date_errors_name_the_commands_own_flags(tmp_path, database_url, start, end, needles):
    dags = make_dags(tmp_path, "pychain")
    before = event_count(database_url)
    line = assert_refused(_create(dags, "pychain", start, end), database_url, before, *needles)
    assert "-s" not in line.split() and "-e" not in line.split() and "start date" not in line


def _dop_with_failed_p(tmp_path, ds: str):
    dags = make_dags(tmp_path, "dop")
    assert cli("dags", "pause", "dop", "-S", str(dags.folder)).exit_code == 0
    seed_run(dags, "dop", ds, state="failed", ti_states={"p": "failed", "q": "upstream_failed"})
    return dags


def test_a_first_date_blocked_by_the_run_before_the_range_is_refused(tmp_path, database_url):
    dags = _dop_with_failed_p(tmp_path, "2024-01-04")
    before = event_count(database_url)
    assert_refused(_create(dags, "dop", "2024-01-05", "2024-01-07"), database_url, before,
                   "depends_on_past blocks the run of 2024-01-05", "previous run 2024-01-04 is failed",
                   "--reprocess-behavior")
    assert cli_json("backfill", "list", "-o", "json") == []


def test_a_date_inside_the_range_blocked_by_a_skipped_run_is_refused(tmp_path, database_url):
    """Under `none` the failed run of the 3rd is skipped, so nothing would ever unblock the 4th."""
    dags = _dop_with_failed_p(tmp_path, "2024-01-03")
    seed_run(dags, "dop", "2024-01-01", ti_states={"p": "success", "q": "success"})
    seed_run(dags, "dop", "2024-01-02", ti_states={"p": "success", "q": "success"})
    before = event_count(database_url)
    assert_refused(_create(dags, "dop", "2024-01-01", "2024-01-06"), database_url, before,
                   "depends_on_past blocks the run of 2024-01-04", "previous run 2024-01-03 is failed")
    assert dags.executions() == []


def test_a_blocking_run_the_backfill_re_runs_itself_lets_it_be_created(tmp_path, database_url):
    dags = _dop_with_failed_p(tmp_path, "2024-01-03")
    seed_run(dags, "dop", "2024-01-02", ti_states={"p": "success", "q": "success"})
    result = _create(dags, "dop", "2024-01-02", "2024-01-05", "--reprocess-behavior", "failed")
    assert result.exit_code == 0, result.output
    assert [d["decision"] for d in cli_json("backfill", "show", "1", "-o", "json")] == [
        "skipped: already succeeded", "adopted", "created", "created"]
