"""Input at the edges of what ledgerflow handles is refused with one line and exit 2, never a
traceback: dates at the ends of the calendar, conf nested past any parser, limits past bigint,
schedules that never fire, files that never end, a home that is a file, a range in the future,
and reads of a DAG id that has neither a file nor a history."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap

import pytest
from cli_contract_support import dags as dags  # a fixture, named here so pytest finds it
from dagfiles import cli, event_count
from refusals import assert_refused


@pytest.fixture
def written(dags, database_url) -> int:
    assert cli("dags", "trigger", "daily", "-e", "2024-01-02").exit_code == 0
    return event_count(database_url)


EARLY, LATE = "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"


@pytest.mark.parametrize(("args", "flag"), [
    (["dags", "list-runs", "daily", "-s", EARLY], "-s"),
    (["dags", "list-runs", "daily", "-e", LATE], "-e"),
    (["dags", "list-runs", "daily", "-s", "0001-01-01"], "-s"),
    (["dags", "list-runs", "daily", "--as-of", EARLY], "--as-of"),
    (["tasks", "states", "daily", "-e", "9999-12-31"], "-e"),
    (["tasks", "states-for-dag-run", "daily", "x", "--as-of", LATE], "--as-of"),
    (["tasks", "clear", "daily", "-s", EARLY, "-y"], "-s"),
    (["tasks", "clear", "daily", "-e", LATE, "-y"], "-e"),
    (["dags", "backfill", "daily", "-s", "0001-01-01", "-e", "0001-01-02", "-y"], "-s"),
    (["dags", "backfill", "daily", "-s", "2024-01-01", "-e", "9999-12-31", "-y"], "-e"),
    (["dags", "trigger", "daily", "-e", "0001-01-01"], "-e"),
    (["audit", "log", "--since", EARLY], "--since"),
    (["audit", "log", "--until", LATE], "--until"),
    (["audit", "export", "-", "--since", EARLY], "--since"),
])
def test_years_0001_and_9999_are_refused_in_every_date_option(written, database_url, args, flag):
    assert_refused(cli(*args), database_url, written, f"invalid {flag} ", "year must be between")


def test_a_conf_nested_50000_deep_is_refused(written, database_url):
    deep = "[" * 50_000 + "]" * 50_000
    for args in (["dags", "trigger", "daily", "-e", "2024-01-03"], ["dags", "backfill", "daily", "-s", "2024-01-03"]):
        assert_refused(cli(*args, "-c", '{"a": ' + deep + "}"), database_url, written, "--conf", "nested")


def test_a_limit_beyond_bigint_is_refused(written, database_url):
    assert_refused(cli("audit", "log", "--limit", str(2**70)), database_url, written, "--limit")
    assert cli("audit", "log", "--limit", str(2**63 - 1)).exit_code == 0


def test_a_schedule_that_never_fires_makes_a_broken_dag_file_naming_it(dags, database_url):
    (dags / "feb30.py").write_text(textwrap.dedent("""
        from datetime import datetime
        from ledgerflow import DAG, EmptyTask
        with DAG("feb30", schedule="0 0 30 2 *", start_date=datetime(2024, 1, 1)) as dag:
            EmptyTask("a")
    """))
    result = cli("dags", "backfill", "feb30", "-S", str(dags / "feb30.py"), "-s", "2024-01-01", "-y")
    assert_refused(result, database_url, 0, "broken DAG file", "'0 0 30 2 *'", "never fires")
    listed = cli("dags", "list")
    assert listed.exit_code == 0 and "'0 0 30 2 *': it never fires" in listed.stderr


@pytest.mark.parametrize("option", ["--digest", "--export"])
def test_verify_reads_a_file_that_never_ends_only_so_far(dags, database_url, option):
    """In a process of its own, bounded in memory and time: reading /dev/zero whole would take both."""
    def bounded() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))

    done = subprocess.run(
        [sys.executable, "-m", "ledgerflow.cli", "audit", "verify", option, "/dev/zero"],
        capture_output=True, text=True, timeout=120, preexec_fn=bounded,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "/dev/zero" in line and "longer than" in line


def test_a_home_that_is_a_file_is_refused_before_anything_is_written(written, database_url, tmp_path, monkeypatch):
    home = tmp_path / "home-file"
    home.write_text("not a directory")
    for path in (home, home / "below"):
        monkeypatch.setenv("LEDGERFLOW_HOME", str(path))
        for args in (["dags", "list-runs", "daily"], ["dags", "backfill", "daily", "-s", "2024-01-01", "-y"]):
            assert_refused(cli(*args), database_url, written, "LEDGERFLOW_HOME", "is not a directory")


def test_a_backfill_range_wholly_in_the_future_is_refused(written, database_url):
    assert_refused(cli("dags", "backfill", "daily", "-s", "2999-01-01"), database_url, written,
                   "wholly in the future")
    assert_refused(cli("dags", "backfill", "daily", "-e", "2999-01-01"), database_url, written, "future")


@pytest.mark.parametrize("args", [["dags", "list-runs", "nope"], ["tasks", "states", "nope"],
                                  ["tasks", "states", "nope", "-s", "2024-01-01", "--as-of", "2024-06-01"]])
def test_a_read_of_a_dag_id_with_neither_a_file_nor_a_history_is_refused(written, database_url, args):
    assert_refused(cli(*args), database_url, written, "'nope' not found")


def test_a_dag_id_with_history_but_no_file_still_reads(written, dags):
    (dags / "daily.py").unlink()
    for args in (["dags", "list-runs", "daily"], ["tasks", "states", "daily", "-s", "2024-01-01"],
                 ["dags", "list-runs", "daily", "--state", "failed"]):
        result = cli(*args, "-o", "json")
        assert result.exit_code == 0, (args, result.output)
    assert cli("dags", "list-runs", "berlin", "-o", "json").stdout.strip() == "[]"  # a file, no history
