from datetime import datetime, timedelta

from audit_support import head_recorded_at, record, sql, start_run, ti
from dagfiles import cli, cli_json

from ledgerflow.engine.domain.dagrun import DagRun

RUN = "manual__2024-01-02T00:00:00+00:00"


def _just_before(instant: str) -> str:
    return (datetime.fromisoformat(instant) - timedelta(microseconds=1)).isoformat()


def _states(at: str) -> dict[str, tuple]:
    rows = cli_json("tasks", "states-for-dag-run", "d", RUN, "--as-of", at, "-o", "json")
    return {r["task_id"]: (r["state"], r["try_number"]) for r in rows}


def _run_state(at: str) -> list[str]:
    return [r["state"] for r in cli_json("dags", "list-runs", "d", "--as-of", at, "-o", "json")]


def _history(database_url, ledger) -> dict[str, str]:
    """Times right after each step of: create, run, clear, run again, reset."""
    at = {}
    run = start_run(ledger)
    at["created"] = head_recorded_at(database_url)
    record(ledger, run, DagRun.TaskInstancesChanged, actor="dave", reason=None,
           changes=[ti("a", None, "success", 1), ti("b", None, "failed", 1)])
    record(ledger, run, DagRun.StateChanged, actor="dave", reason=None,
           from_state="queued", to_state="failed")
    at["failed"] = head_recorded_at(database_url)
    record(ledger, run, DagRun.Cleared, actor="erin", reason="fix", name="tasks clear",
           changes=[ti("a", "success", None, 1), ti("b", "failed", None, 1)],
           run_from="failed", run_to="queued")
    at["cleared"] = head_recorded_at(database_url)
    record(ledger, run, DagRun.TaskInstancesChanged, actor="dave", reason=None,
           changes=[ti("a", None, "success", 2), ti("b", None, "success", 2)])
    record(ledger, run, DagRun.StateChanged, actor="dave", reason=None,
           from_state="queued", to_state="success")
    at["rerun"] = head_recorded_at(database_url)
    record(ledger, run, DagRun.Reset, actor="erin", reason="reset", name="dags backfill",
           changes=[ti("a", "success", None, 2), ti("b", "success", None, 2)],
           run_from="success", run_to="queued")
    at["reset"] = head_recorded_at(database_url)
    return at


def test_task_states_before_and_after_a_clear(database_url, ledger):
    at = _history(database_url, ledger)
    assert _states(at["created"]) == {"a": (None, 0), "b": (None, 0)}
    assert _states(_just_before(at["cleared"])) == {"a": ("success", 1), "b": ("failed", 1)}
    assert _states(at["cleared"]) == {"a": (None, 1), "b": (None, 1)}
    assert _run_state(_just_before(at["cleared"])) == ["failed"]
    assert _run_state(at["cleared"]) == ["queued"]


def test_task_states_before_and_after_a_reset(database_url, ledger):
    at = _history(database_url, ledger)
    assert _states(at["rerun"]) == {"a": ("success", 2), "b": ("success", 2)}
    assert _run_state(_just_before(at["reset"])) == ["success"]
    assert _states(at["reset"]) == {"a": (None, 2), "b": (None, 2)}
    assert _run_state(at["reset"]) == ["queued"]


def test_as_of_now_is_identical_to_the_current_views(database_url, ledger):
    _history(database_url, ledger)
    later = "2999-01-01T00:00:00+00:00"
    for command in (["dags", "list-runs", "d"], ["tasks", "states", "d"],
                    ["tasks", "states-for-dag-run", "d", RUN]):
        as_of = cli_json(*command, "--as-of", later, "-o", "json")
        assert as_of == cli_json(*command, "-o", "json")
    current = cli_json("dags", "list-runs", "d", "-o", "json")
    assert list(current[0]) == ["dag_id", "run_id", "logical_date", "data_interval_start",
                                "data_interval_end", "run_type", "state", "conf"]


def test_as_of_a_moment_in_the_past_ignores_later_runs(database_url, ledger):
    at = _history(database_url, ledger)
    start_run(ledger, logical_date="2024-01-03T00:00:00+00:00")
    assert len(cli_json("dags", "list-runs", "d", "-o", "json")) == 2
    assert len(cli_json("dags", "list-runs", "d", "--as-of", at["reset"], "-o", "json")) == 1
    rows = cli_json("tasks", "states", "d", "--as-of", at["failed"], "-t", "^a$", "-o", "json")
    assert [(r["task_id"], r["state"]) for r in rows] == [("a", "success")]


def test_before_the_run_existed_it_is_not_listed_and_not_found(database_url, ledger):
    at = _history(database_url, ledger)
    before = _just_before(at["created"])
    assert cli_json("dags", "list-runs", "d", "--as-of", before, "-o", "json") == []
    assert cli_json("tasks", "states", "d", "--as-of", before, "-o", "json") == []
    result = cli("tasks", "states-for-dag-run", "d", RUN, "--as-of", before)
    assert result.exit_code == 2


def test_a_malformed_as_of_is_refused_with_exit_2(database_url):
    result = cli("dags", "list-runs", "d", "--as-of", "last tuesday")
    assert result.exit_code == 2
    assert "--as-of" in result.output


def test_the_cutoff_is_the_last_position_recorded_at_or_before_an_instant(database_url, ledger):
    run = start_run(ledger)
    sql(database_url, "SELECT nextval('ledgerflow_events_notification_id_seq')")  # a gap
    for _ in range(6):
        record(ledger, run, DagRun.StateChanged, actor="dave", reason=None,
               from_state="queued", to_state="queued")
    links = sql(database_url, "SELECT notification_id, recorded_at FROM ledgerflow_chain "
                              "ORDER BY notification_id")
    moments = sorted({at for _, at in links})
    probes = [moments[0] - timedelta(microseconds=1), *moments,
              *(at + timedelta(microseconds=1) for at in moments)]
    for probe in probes:
        expected = max((pos for pos, at in links if at <= probe), default=0)
        (found,) = sql(database_url, "SELECT ledgerflow_chain_cutoff(%s)", params=(probe,))
        assert found[0] == expected, probe
