"""A clear that lands on a run while a runner drives it: folded in, nothing lost or applied twice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from clear_support import run_events
from dagfiles import backfill, make_dags, query, run_map, states, ti_map

from ledgerflow.engine.application.clear import ClearTaskInstances, clear_task_instances, plan_clear
from ledgerflow.engine.authoring.dagbag import load_dag
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.domain.operation import new_operation
from ledgerflow.engine.domain.scheduling import new_run
from ledgerflow.engine.runtime.executors import SequentialExecutor
from ledgerflow.engine.runtime.runner import Runner, RunnerOptions
from ledgerflow.projections.projector import ViewProjector

TWO = '''
with DAG("two", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 1),
         catchup=False) as dag:
    PythonTask("a", work) >> PythonTask("b", work)
'''

SELF_CLEARING = '''
import subprocess, sys


def clear_first(ds, task_id):
    record(f"{task_id} {ds}")
    marker = STATE / "cleared_once"
    if not marker.exists():
        marker.touch()
        subprocess.run([sys.executable, "-m", "ledgerflow.cli", "tasks", "clear", "selfclear",
                        "-S", str(Path(__file__).parent), "-s", ds, "-e", ds, "-t", "^first$", "-y",
                        "--actor", "colleague"], check=True)


with DAG("selfclear", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 1),
         catchup=False) as dag:
    PythonTask("first", work) >> PythonTask("clearer", clear_first)
'''


pytestmark = pytest.mark.usefixtures("sequential_executor")


def _dense(database_url: str) -> bool:
    rows = query(database_url, "SELECT count(*) AS n, max(originator_version) AS top FROM ledgerflow_events "
                               "GROUP BY originator_id")
    return all(r["n"] == r["top"] for r in rows)


def test_a_clear_landing_mid_backfill_is_picked_up_and_the_cleared_task_runs_again(tmp_path, database_url, monkeypatch):
    dags = make_dags(tmp_path, selfclear=SELF_CLEARING)
    result = backfill(dags, "selfclear", "-s", "2024-01-10", "-e", "2024-01-10")
    assert result.exit_code == 0, result.output
    assert dags.lines() == ["first 2024-01-10", "clearer 2024-01-10", "first 2024-01-10"]
    got = ti_map("selfclear")
    assert (got[("first", "2024-01-10")]["state"], got[("first", "2024-01-10")]["try_number"]) == ("success", 2)
    assert states("selfclear")[("clearer", "2024-01-10")] == "success"
    assert run_map("selfclear")["2024-01-10"]["state"] == "success"
    [cleared] = run_events(database_url, "Cleared")
    assert cleared["actor"] == "colleague" and cleared["changes"][0]["from"] == "success"
    assert _dense(database_url)


@pytest.fixture
def driven(tmp_path, ledger):
    """A runner holding one run of `two`: a succeeded (stored), b's success and the run's close pending."""
    dags = make_dags(tmp_path, two=TWO)
    dag = load_dag(dags.folder, "two")
    op = new_operation("dags backfill", actor="runner", reason=None)
    runner = Runner(ledger, dag, dag, op, SequentialExecutor(), RunnerOptions(), runs=[],
                    pool_slots={"default_pool": 128})
    agg = new_run(dag, datetime(2024, 1, 10, tzinfo=UTC), "backfill", "running", {}, op)
    runner.hold(agg)
    runner.open(agg)
    runner.events.change(agg, [{"task_id": "a", "from": None, "to": "success", "try_number": 1, "max_tries": 0}])
    runner.flush()
    runner.events.change(agg, [{"task_id": "b", "from": None, "to": "success", "try_number": 1, "max_tries": 0}])
    return dags, runner, agg


def _clear_a(ledger, dags: Path) -> None:
    ViewProjector(ledger).catch_up()
    plan = plan_clear(ledger, ClearTaskInstances(dag_id="two", task_regex="^a$", subdir=dags.folder, yes=True))
    clear_task_instances(ledger, plan, new_operation("tasks clear", actor="colleague", reason=None))


def test_a_runner_append_that_loses_to_a_clear_re_applies_its_own_events_on_top(driven, ledger, database_url):
    dags, runner, agg = driven
    _clear_a(ledger, dags)
    runner.flush()  # conflicts with the clear, reloads, re-applies b's success, appends
    ViewProjector(ledger).catch_up()
    assert states("two") == {("a", "2024-01-10"): None, ("b", "2024-01-10"): "success"}
    assert run_map("two")["2024-01-10"]["state"] == "running"
    assert runner.active[agg.id].run.tis["a"].state is None  # the runner now sees the clear
    kinds = [(e["kind"], e["actor"]) for e in run_events(database_url)]
    assert kinds[-2:] == [("Cleared", "colleague"), ("TaskInstancesChanged", "runner")]
    assert _dense(database_url)


def test_a_run_the_runner_closed_but_a_clear_reopened_is_left_queued_not_running(driven, ledger, database_url):
    dags, runner, agg = driven
    closed = runner.finish_runs()  # b done: the run's close to success is pending
    assert [c.id for c in closed] == [agg.id]
    _clear_a(ledger, dags)
    runner.flush()
    ViewProjector(ledger).catch_up()
    assert run_map("two")["2024-01-10"]["state"] == "queued"
    assert states("two")[("a", "2024-01-10")] is None
    assert [b.reason for b in runner.outcome.blocked] == [
        "cleared by another operation as this run finished; left queued"]
    assert "success" not in [e.get("to_state") for e in run_events(database_url, "StateChanged")]
    assert _dense(database_url)


def test_a_runner_polling_between_appends_reloads_the_cleared_run(driven, ledger, database_url):
    dags, runner, agg = driven
    runner.flush()
    runner.clears.poll()  # the first poll only notes where the log is
    _clear_a(ledger, dags)
    runner.clears.checked = float("-inf")
    runner.clears.poll()
    assert runner.active[agg.id].run.tis["a"].state is None
    assert runner.active[agg.id].version == query(
        database_url, "SELECT max(originator_version) AS v FROM ledgerflow_events WHERE originator_id = %s",
        agg.id)[0]["v"]
    assert isinstance(runner.active[agg.id], DagRun)
