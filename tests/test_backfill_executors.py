"""Where tries run: -l, LEDGERFLOW_PARALLELISM, pools, max_active_tasks, execution_timeout, log files."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from dagfiles import backfill, cli, make_dags, most_at_once, run_states, spans, ti_changes, ti_map


@pytest.fixture(autouse=True)
def _local(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "local")
    monkeypatch.setenv("LEDGERFLOW_PARALLELISM", "4")


def _pids(dags) -> list[int]:
    return [int(line.split(" ")[2]) for line in dags.lines()]


def test_local_runs_tries_in_worker_processes_even_when_sequential_is_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "sequential")
    monkeypatch.setenv("LEDGERFLOW_PARALLELISM", "2")
    dags = make_dags(tmp_path, "whereami")
    result = backfill(dags, "whereami", "-s", "2024-01-01", "-e", "2024-01-02", "-l")
    assert result.exit_code == 0, result.output
    pids = _pids(dags)
    assert len(pids) == 4
    assert os.getpid() not in pids
    assert 1 <= len(set(pids)) <= 2


def test_the_sequential_executor_runs_tries_inside_the_backfill_process(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "sequential")
    dags = make_dags(tmp_path, "whereami")
    assert backfill(dags, "whereami", "-s", "2024-01-01", "-e", "2024-01-02").exit_code == 0
    assert set(_pids(dags)) == {os.getpid()}


def test_an_unknown_executor_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "nosuch")
    dags = make_dags(tmp_path, "pychain")
    result = backfill(dags, "pychain", "-s", "2024-01-01")
    assert result.exit_code == 2, result.output
    assert "nosuch" in result.output
    assert dags.executions() == []


def test_independent_tries_overlap_up_to_the_parallelism(tmp_path):
    dags = make_dags(tmp_path, "parallel")
    result = backfill(dags, "parallel", "-s", "2024-01-01", "-e", "2024-01-04")
    assert result.exit_code == 0, result.output
    assert len(spans(dags.lines())) == 4
    assert most_at_once(dags.lines()) >= 2


def test_a_parallelism_of_one_never_runs_two_tries_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_PARALLELISM", "1")
    dags = make_dags(tmp_path, "parallel")
    result = backfill(dags, "parallel", "-s", "2024-01-01", "-e", "2024-01-04")
    assert result.exit_code == 0, result.output
    assert len(spans(dags.lines())) == 4
    assert most_at_once(dags.lines()) == 1


def _pool(name: str, slots: int) -> None:
    made = cli("pools", "set", name, str(slots))
    assert made.exit_code == 0, made.output


def test_a_one_slot_pool_of_the_task_serialises_its_tries(tmp_path):
    _pool("serial", 1)
    dags = make_dags(tmp_path, "pooled")
    result = backfill(dags, "pooled", "-s", "2024-01-01", "-e", "2024-01-04")
    assert result.exit_code == 0, result.output
    assert len(spans(dags.lines())) == 4
    assert most_at_once(dags.lines()) == 1
    assert set(run_states("pooled").values()) == {"success"}


def test_the_pool_flag_puts_every_task_in_that_pool(tmp_path):
    _pool("serial", 1)
    dags = make_dags(tmp_path, "parallel")
    result = backfill(dags, "parallel", "-s", "2024-01-01", "-e", "2024-01-04", "--pool", "serial")
    assert result.exit_code == 0, result.output
    assert len(spans(dags.lines())) == 4
    assert most_at_once(dags.lines()) == 1


def test_a_two_slot_pool_never_has_more_than_two_tries_running(tmp_path):
    _pool("two", 2)
    dags = make_dags(tmp_path, "parallel")
    result = backfill(dags, "parallel", "-s", "2024-01-01", "-e", "2024-01-06", "--pool", "two")
    assert result.exit_code == 0, result.output
    assert len(spans(dags.lines())) == 6
    assert most_at_once(dags.lines()) <= 2


def test_max_active_tasks_caps_the_tries_running_at_once_across_runs(tmp_path):
    dags = make_dags(tmp_path, "mat2")
    result = backfill(dags, "mat2", "-s", "2024-01-01", "-e", "2024-01-06")
    assert result.exit_code == 0, result.output
    assert len(spans(dags.lines())) == 6
    assert most_at_once(dags.lines()) <= 2


def test_execution_timeout_kills_python_and_bash_tries_that_run_too_long(tmp_path, database_url):
    dags = make_dags(tmp_path, "timeout")
    started = time.monotonic()
    result = backfill(dags, "timeout", "-s", "2024-01-01")
    assert time.monotonic() - started < 15
    assert result.exit_code == 1, result.output
    assert {k[0]: v["state"] for k, v in ti_map("timeout").items()} == {"hangs": "failed", "bash_hangs": "failed"}
    failures = {c["task_id"]: c.get("error", "") for c in ti_changes(database_url, "timeout") if c["to"] == "failed"}
    assert set(failures) == {"hangs", "bash_hangs"}
    assert all("execution_timeout" in error for error in failures.values())
    assert dags.executions() == []


def _logs() -> list[Path]:
    return sorted((Path(os.environ["LEDGERFLOW_HOME"]) / "logs").rglob("*.log"))


def test_each_try_keeps_its_output_in_a_log_file_whose_sha256_is_recorded(tmp_path, database_url):
    dags = make_dags(tmp_path, "noisy")
    assert backfill(dags, "noisy", "-s", "2024-01-01").exit_code == 0
    logs = _logs()
    assert len(logs) == 2
    by_text = {}
    for path in logs:
        text = path.read_text()
        key = "py" if "hello from 2024-01-01" in text else "sh" if "bash says 2024-01-01" in text else None
        assert key is not None, text
        by_text[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    recorded = {c["task_id"]: c["log_sha256"] for c in ti_changes(database_url, "noisy") if c["to"] == "success"}
    assert recorded == by_text


def test_every_try_of_a_retried_task_gets_its_own_log_file(tmp_path, database_url):
    dags = make_dags(tmp_path, "retry")
    assert backfill(dags, "retry", "-s", "2024-01-01").exit_code == 1
    logs = _logs()
    assert len(logs) == 4
    failing = [p for p in logs if "always_fails" in str(p)]
    assert len(failing) == 2
    assert all("always fails" in p.read_text() for p in failing)
    recorded = sorted(
        c["log_sha256"]
        for c in ti_changes(database_url, "retry")
        if c["task_id"] == "always_fails" and c.get("log_sha256")
    )
    assert recorded == sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in failing)


@pytest.mark.parametrize("executor", ["sequential", "local"])
def test_a_task_that_calls_sys_exit_fails_its_try_and_the_backfill_goes_on(
    tmp_path, database_url, monkeypatch, executor
):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", executor)
    dags = make_dags(tmp_path, "exits")
    result = backfill(dags, "exits", "-s", "2024-01-01")
    assert result.exit_code == 1, result.output
    assert {k[0]: v["state"] for k, v in ti_map("exits").items()} == {"bye": "failed", "after": "upstream_failed"}
    assert run_states("exits") == {"2024-01-01": "failed"}
    (failure,) = [c for c in ti_changes(database_url, "exits") if c["to"] == "failed"]
    assert "SystemExit" in failure["error"]
    assert "Some task instances failed:" in result.output


def test_a_pool_without_slots_leaves_the_work_blocked_with_the_reason_instead_of_waiting(tmp_path):
    _pool("closed", 0)
    dags = make_dags(tmp_path, "pychain")
    result = backfill(dags, "pychain", "-s", "2024-01-01", "--pool", "closed")
    assert result.exit_code == 1, result.output
    assert "a @ 2024-01-01 blocked: pool closed has no free slot (0 slots)" in result.output
    assert run_states("pychain") == {"2024-01-01": "queued"}
    assert dags.executions() == []
