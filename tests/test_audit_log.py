import getpass
import socket

from audit_support import dag_folder, head_recorded_at, record, sql, start_run, ti
from dagfiles import cli, cli_json

from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.infrastructure.settings import version
from ledgerflow.projections.projector import ViewProjector

FIELDS = ["seq", "recorded_at", "event", "dag_id", "run_id", "task_id", "from_state", "to_state",
          "actor", "reason", "operation_id", "operation"]


def _history(ledger):
    run = start_run(ledger, actor="carol", reason="setup")
    record(ledger, run, DagRun.TaskInstancesChanged, actor="dave", reason="first try",
           changes=[ti("a", None, "success", 1), ti("b", None, "failed", 1)])
    clear_op = record(ledger, run, DagRun.Cleared, actor="erin", reason="bad input data",
                      name="tasks clear", changes=[ti("a", "success", None, 1),
                                                   ti("b", "failed", None, 1)],
                      run_from="queued", run_to="queued")
    return run, clear_op


def test_every_entry_has_exactly_the_contract_fields_oldest_first(database_url, ledger):
    _history(ledger)
    entries = cli_json("audit", "log", "-o", "json")
    assert [list(e) for e in entries] == [FIELDS] * len(entries)
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert len({e["seq"] for e in entries}) == len(entries)
    assert all(e["recorded_at"].endswith("+00:00") for e in entries)


def test_one_event_that_changes_two_task_instances_gives_two_entries(database_url, ledger):
    _, clear_op = _history(ledger)
    entries = cli_json("audit", "log", "--operation-id", clear_op, "-o", "json")
    task_rows = [(e["task_id"], e["from_state"], e["to_state"]) for e in entries if e["task_id"]]
    assert task_rows == [("a", "success", None), ("b", "failed", None)]
    assert {e["event"] for e in entries} == {"Cleared"}


def test_actor_reason_and_operation_are_on_every_change(database_url, ledger):
    _, clear_op = _history(ledger)
    entries = cli_json("audit", "log", "-o", "json")
    assert all(e["actor"] and e["operation_id"] and e["operation"] for e in entries)
    by_event = {(e["event"], e["task_id"]): e for e in entries}
    assert by_event[("Created", None)]["actor"] == "carol"
    assert by_event[("TaskInstancesChanged", "b")]["reason"] == "first try"
    cleared = by_event[("Cleared", "a")]
    assert (cleared["actor"], cleared["reason"], cleared["operation_id"], cleared["operation"]) == (
        "erin", "bad input data", clear_op, "tasks clear")


def test_history_of_one_task_instance_filters_by_dag_task_and_run(database_url, ledger):
    run, _ = _history(ledger)
    other = start_run(ledger, logical_date="2024-01-03T00:00:00+00:00")
    record(ledger, other, DagRun.TaskInstancesChanged, actor="dave", reason=None,
           changes=[ti("a", None, "running", 1)])
    entries = cli_json("audit", "log", "--dag-id", "d", "--task-id", "a",
                       "--run-id", run.run.run_id, "-o", "json")
    assert [(e["from_state"], e["to_state"]) for e in entries] == [(None, "success"),
                                                                    ("success", None)]
    assert len(cli_json("audit", "log", "--task-id", "a", "-o", "json")) == 3
    assert [e["actor"] for e in cli_json("audit", "log", "--actor", "dave", "-o", "json")] == [
        "dave"] * 3


def test_since_until_and_limit_select_by_recording_time(database_url, ledger):
    _history(ledger)
    everything = cli_json("audit", "log", "-o", "json")
    last = everything[-1]["recorded_at"]
    newest = cli_json("audit", "log", "--since", last, "-o", "json")
    assert newest and all(e["recorded_at"] == last for e in newest)
    assert cli_json("audit", "log", "--until", "2000-01-01", "-o", "json") == []
    assert cli_json("audit", "log", "--limit", "2", "-o", "json") == everything[-2:]


def test_jsonl_prints_one_entry_per_line(database_url, ledger):
    _history(ledger)
    result = cli("audit", "log", "-o", "jsonl")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == len(cli_json("audit", "log", "-o", "json"))


def test_a_bad_since_is_refused_with_exit_2(database_url):
    result = cli("audit", "log", "--since", "yesterday")
    assert result.exit_code == 2
    assert "--since" in result.output


def test_trigger_records_actor_reason_host_and_version(database_url, tmp_path):
    dags = dag_folder(tmp_path)
    result = cli("dags", "trigger", "d", "-S", str(dags), "-e", "2024-01-02",
                 "--reason", "late data", "--actor", "frank")
    assert result.exit_code == 0, result.output
    (entry,) = cli_json("audit", "log", "-o", "json")
    assert (entry["event"], entry["actor"], entry["reason"], entry["operation"]) == (
        "Created", "frank", "late data", "dags trigger")
    (shown,) = cli_json("audit", "show", entry["operation_id"], "-o", "json")
    assert shown["command"] == "dags trigger"
    assert isinstance(shown["arguments"], dict)
    assert (shown["actor"], shown["reason"], shown["outcome"]) == ("frank", "late data", "success")
    assert (shown["host"], shown["ledgerflow_version"]) == (socket.gethostname(), version())
    assert shown["started_at"] <= shown["ended_at"]
    assert [c["run_id"] for c in shown["changes"]] == ["manual__2024-01-02T00:00:00+00:00"]


def test_the_actor_defaults_to_the_os_user_and_the_option_beats_the_environment(
        database_url, tmp_path, monkeypatch):
    dags = dag_folder(tmp_path)
    monkeypatch.delenv("LEDGERFLOW_ACTOR")
    cli("dags", "trigger", "d", "-S", str(dags), "-e", "2024-01-02")
    monkeypatch.setenv("LEDGERFLOW_ACTOR", "from-env")
    cli("dags", "trigger", "d", "-S", str(dags), "-e", "2024-01-03")
    cli("dags", "trigger", "d", "-S", str(dags), "-e", "2024-01-04", "--actor", "from-option")
    actors = [e["actor"] for e in cli_json("audit", "log", "-o", "json")]
    assert actors == [getpass.getuser(), "from-env", "from-option"]


def test_show_accepts_a_unique_prefix_and_refuses_an_unknown_id(database_url, ledger):
    _, clear_op = _history(ledger)
    result = cli("audit", "show", clear_op[:8])
    assert result.exit_code == 0, result.output
    assert "tasks clear" in result.output and "bad input data" in result.output
    missing = cli("audit", "show", "ffffffff-0000")
    assert missing.exit_code == 2
    assert "no operation" in missing.output


def test_a_backfill_stamps_its_operation_on_every_change(database_url, tmp_path):
    dags = dag_folder(tmp_path)
    result = cli("dags", "backfill", "d", "-S", str(dags), "-s", "2024-01-02", "-e", "2024-01-03",
                 "--reason", "reprocess Q1", "--actor", "gina", "-y")
    assert result.exit_code == 0, result.output
    entries = cli_json("audit", "log", "-o", "json")
    assert len({e["run_id"] for e in entries if e["run_id"]}) == 2  # and the backfill object's own entries
    assert {(e["actor"], e["reason"], e["operation"]) for e in entries} == {
        ("gina", "reprocess Q1", "dags backfill")}
    assert len({e["operation_id"] for e in entries}) == 1
    task_changes = [e for e in entries if e["task_id"]]
    assert {e["task_id"] for e in task_changes} == {"a", "b"}


def test_rebuilding_the_views_gives_the_same_audit_entries(database_url, ledger):
    _history(ledger)
    ViewProjector(ledger).catch_up()
    query = "SELECT * FROM audit_entry ORDER BY seq"
    before = sql(database_url, query)
    ViewProjector(ledger).rebuild()
    assert sql(database_url, query) == before
    assert len(before) == 6


def test_reasons_with_tabs_newlines_and_backslashes_read_back_unchanged(database_url, ledger):
    reason = "line one\nline two\twith a tab and a \\ backslash \\N"
    run = start_run(ledger, reason=reason)
    record(ledger, run, DagRun.TaskInstancesChanged, actor="dave", reason=reason,
           changes=[ti("a", None, "success", 1)])
    assert {e["reason"] for e in cli_json("audit", "log", "-o", "json")} == {reason}


def test_a_clear_stamps_its_operation_on_every_change_and_as_of_still_sees_before(
        database_url, tmp_path):
    dags = dag_folder(tmp_path)
    cli("dags", "backfill", "d", "-S", str(dags), "-s", "2024-01-02", "-e", "2024-01-03",
        "--reason", "first load", "-y")
    before = head_recorded_at(database_url)
    result = cli("tasks", "clear", "d", "-S", str(dags), "-s", "2024-01-02", "-e", "2024-01-02",
                 "-t", "^b$", "--reason", "vendor resent the file", "--actor", "hana", "-y")
    assert result.exit_code == 0, result.output
    cleared = [e for e in cli_json("audit", "log", "-o", "json") if e["operation"] == "tasks clear"]
    assert cleared and {(e["actor"], e["reason"]) for e in cleared} == {
        ("hana", "vendor resent the file")}
    assert len({e["operation_id"] for e in cleared}) == 1
    assert [(e["task_id"], e["from_state"], e["to_state"]) for e in cleared if e["task_id"]] == [
        ("b", "success", None)]
    run = "backfill__2024-01-02T00:00:00+00:00"
    past = cli_json("tasks", "states-for-dag-run", "d", run, "--as-of", before, "-o", "json")
    assert {r["task_id"]: r["state"] for r in past} == {"a": "success", "b": "success"}
    now = cli_json("tasks", "states-for-dag-run", "d", run, "-o", "json")
    assert {r["task_id"]: r["state"] for r in now} == {"a": "success", "b": None}
