"""Classic-operator DAG files of the corpus, backfilled unchanged: the states and XComs Airflow gives."""

from __future__ import annotations

import pytest
from airflow_corpus import backfill, by_day, dag_folder, returns, states, xcoms
from cli_runner import cli

pytestmark = pytest.mark.usefixtures("database_url")


def test_the_tutorial_runs_with_its_templates_rendered_and_its_last_lines_in_xcom(tmp_path):
    folder = dag_folder(tmp_path, "tutorial")
    result = backfill(folder, "tutorial", "-s", "2024-01-01", "-e", "2024-01-02")
    assert result.exit_code == 0, result.output
    assert set(by_day(states("tutorial")).values()) == {"success"}
    assert len(states("tutorial")) == 6
    values = returns("tutorial")
    assert values["print_date", "2024-01-01"] == "2024-01-01"
    assert values["sleep", "2024-01-02"] == "slept"
    assert values["templated", "2024-01-02"] == "2024-01-02 2024-01-09"


def test_a_branch_skips_the_branch_not_followed_and_the_join_still_runs(tmp_path):
    folder = dag_folder(tmp_path, "branching")
    result = backfill(folder, "branching", "-s", "2024-01-05", "-e", "2024-01-06")  # a Friday and a Saturday
    assert result.exit_code == 0, result.output
    assert by_day(states("branching")) == {
        ("branch", "2024-01-05"): "success", ("weekday", "2024-01-05"): "success",
        ("weekend", "2024-01-05"): "skipped", ("after_weekend", "2024-01-05"): "skipped",
        ("join", "2024-01-05"): "success",
        ("branch", "2024-01-06"): "success", ("weekday", "2024-01-06"): "skipped",
        ("weekend", "2024-01-06"): "success", ("after_weekend", "2024-01-06"): "success",
        ("join", "2024-01-06"): "success",
    }
    found = xcoms("branching")
    assert found["branch", "2024-01-05", "return_value"] == "weekday"
    assert found["branch", "2024-01-06", "skipmixin_key"] == {"followed": ["weekend"]}


def test_a_short_circuit_skips_everything_downstream_or_only_its_direct_downstream(tmp_path):
    folder = dag_folder(tmp_path, "short_circuit")
    assert backfill(folder, "short_circuit", "-s", "2024-01-05").exit_code == 0
    assert by_day(states("short_circuit")) == {
        ("go", "2024-01-05"): "success", ("after_go", "2024-01-05"): "success",
        ("stop", "2024-01-05"): "success", ("after_stop", "2024-01-05"): "skipped",
        ("all_done_after_stop", "2024-01-05"): "skipped",
        ("stop_direct", "2024-01-05"): "success", ("after_stop_direct", "2024-01-05"): "skipped",
        ("all_done_after_direct", "2024-01-05"): "success",
    }
    values = returns("short_circuit")
    assert values["go", "2024-01-05"] is True
    assert values["stop", "2024-01-05"] == 0  # a falsy result is pushed all the same
    assert values["stop_direct", "2024-01-05"] is False


def test_xcom_pushed_in_code_is_pulled_in_code_and_in_templates(tmp_path):
    folder = dag_folder(tmp_path, "xcom_in_templates")
    assert backfill(folder, "xcom_in_templates", "-s", "2024-01-05").exit_code == 0
    found = xcoms("xcom_in_templates")
    assert found["push", "2024-01-05", "return_value"] == [1, 2, 3]
    assert found["push", "2024-01-05", "greeting"] == "hello"
    assert found["echo", "2024-01-05", "return_value"] == "hello 2"
    assert found["from_output", "2024-01-05", "return_value"] == "got [1, 2, 3]"
    assert found["pull", "2024-01-05", "return_value"] == {"sum": 6, "greeting": "hello", "missing": "none"}
    assert ("quiet", "2024-01-05", "return_value") not in found  # do_xcom_push=False


def test_bash_operators_get_their_env_cwd_skip_codes_and_airflow_context_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME_MARK", "marked")
    folder = dag_folder(tmp_path, "bash_env")
    result = backfill(folder, "bash_env", "-s", "2024-01-10")
    assert result.exit_code == 1  # one task fails
    assert by_day(states("bash_env")) == {
        ("only_env", "2024-01-10"): "success", ("append_env", "2024-01-10"): "success",
        ("cwd", "2024-01-10"): "success", ("skip", "2024-01-10"): "skipped",
        ("custom_skip", "2024-01-10"): "skipped", ("fails", "2024-01-10"): "failed",
        ("ctx", "2024-01-10"): "success", ("templated_env", "2024-01-10"): "success",
    }
    values = returns("bash_env")
    assert values["only_env", "2024-01-10"] == "hi unset"  # env= replaces the environment
    assert values["append_env", "2024-01-10"] == "hi marked"
    assert values["cwd", "2024-01-10"] == "/tmp"
    assert values["ctx", "2024-01-10"] == "bash_env ctx 1 ops 2024-01-10T00:00:00+00:00"
    assert values["templated_env", "2024-01-10"] == "20240110"


def test_python_operators_get_op_args_op_kwargs_templates_dict_and_the_context_they_ask_for(tmp_path):
    folder = dag_folder(tmp_path, "python_args")
    assert backfill(folder, "python_args", "-s", "2024-01-10").exit_code == 0
    values = returns("python_args")
    assert values["positional", "2024-01-10"] == 6
    assert values["named_context", "2024-01-10"] == ["2024-01-10", "named_context", "team",
                                                     "backfill__2024-01-10T00:00:00+00:00"]
    assert values["whole_context", "2024-01-10"] == ["dag_run", "ds", "extra", "templates_dict", "ti"]
    assert values["templated", "2024-01-10"] == {"day": "20240110", "extra": "team"}
    assert ("returns_none", "2024-01-10") not in values
    assert by_day(states("python_args"))["returns_none", "2024-01-10"] == "success"


def test_custom_operators_take_default_args_skip_and_fail_without_retries(tmp_path):
    folder = dag_folder(tmp_path, "custom_operator")
    assert backfill(folder, "custom_operator", "-s", "2024-01-10").exit_code == 1
    found = states("custom_operator")
    assert by_day(found) == {("hello", "2024-01-10"): "success", ("hello_explicit", "2024-01-10"): "success",
                             ("skip", "2024-01-10"): "skipped", ("fail_hard", "2024-01-10"): "failed"}
    values = returns("custom_operator")
    assert values["hello", "2024-01-10"] == "Hello 2024-01-10?"  # suffix from default_args, name rendered
    assert values["hello_explicit", "2024-01-10"] == "Hello world."
    rows = cli("tasks", "states", "custom_operator", "-o", "json")
    fail_hard = [r for r in __import__("json").loads(rows.stdout) if r["task_id"] == "fail_hard"][0]
    assert fail_hard["try_number"] == 1  # AirflowFailException: retries=2 from default_args are not used


def test_empty_and_dummy_operators_succeed_and_trigger_rules_follow_a_failure(tmp_path):
    folder = dag_folder(tmp_path, "empty_and_rules")
    assert backfill(folder, "empty_and_rules", "-s", "2024-01-10").exit_code == 1
    assert by_day(states("empty_and_rules")) == {
        ("start", "2024-01-10"): "success", ("breaks", "2024-01-10"): "failed",
        ("on_failure", "2024-01-10"): "success", ("cleanup", "2024-01-10"): "success",
        ("normal", "2024-01-10"): "upstream_failed",
    }


def test_chain_and_cross_downstream_make_airflows_edges(tmp_path):
    folder = dag_folder(tmp_path, "chain_cross")
    tree = cli("tasks", "list", "chain_cross", "-S", str(folder), "--tree")
    assert tree.exit_code == 0, tree.output
    from ledgerflow.engine.application.service import Ledgerflow

    edges = Ledgerflow().dag_tasks("chain_cross", folder)
    assert edges == {"a": ["b", "c"], "b": ["d"], "c": ["e"], "d": ["f"], "e": ["f"], "f": ["x1", "x2"],
                     "x1": ["y1", "y2"], "x2": ["y1", "y2"], "y1": [], "y2": []}
    assert backfill(folder, "chain_cross", "-s", "2024-01-10").exit_code == 0


def test_a_task_group_prefixes_its_tasks_lends_default_args_and_links_as_a_whole(tmp_path):
    folder = dag_folder(tmp_path, "task_group")
    assert backfill(folder, "task_group", "-s", "2024-01-10").exit_code == 0
    values = returns("task_group")
    assert values["section.one", "2024-01-10"] == "from group default_args"
    assert values["section.two", "2024-01-10"] == "section.two"
    from ledgerflow.engine.application.service import Ledgerflow

    edges = Ledgerflow().dag_tasks("task_group", folder)
    assert edges == {"start": ["section.one"], "section.one": ["section.two"], "section.two": ["end"], "end": []}


def test_variables_and_connections_come_from_airflow_environment_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_BUCKET", "b1")
    monkeypatch.setenv("AIRFLOW_VAR_LIMITS", '{"rows": 5}')
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://u:p%40ss@db.example:5433/wh?sslmode=require")
    folder = dag_folder(tmp_path, "variables_env")
    assert backfill(folder, "variables_env", "-s", "2024-01-10").exit_code == 0
    values = returns("variables_env")
    assert values["read", "2024-01-10"] == {"bucket": "b1", "limits": {"rows": 5}, "host": "db.example",
                                            "port": 5433, "login": "u", "schema": "wh",
                                            "extra": {"sslmode": "require"}}
    assert values["templated", "2024-01-10"] == "b1 5 fallback db.example"
