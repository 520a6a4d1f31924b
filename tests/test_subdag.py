"""SubDagTask: runs its child DAG for the same date; clear reaches down (unless -x) and up (unless -X)."""

from __future__ import annotations

import pytest
from clear_support import backfilled, clear, scheduler
from dagfiles import backfill, make_dags, run_map, states, ti_map

SUB = '''
def flaky(ds, task_id):
    record(f"{task_id} {ds}")
    marker = STATE / f"flaky_failed__{ds}"
    if (STATE / "flaky_on").exists() and not marker.exists():
        marker.touch()
        raise RuntimeError("the first try fails")


with DAG("parent.section", start_date=datetime(2024, 1, 1)) as section:
    PythonTask("x", flaky) >> PythonTask("y", work)

with DAG("parent", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 2),
         catchup=False) as dag:
    PythonTask("start", work) >> SubDagTask("section", subdag=section, retries=RETRIES) >> PythonTask("end", work)
    PythonTask("side", work)
'''


pytestmark = pytest.mark.usefixtures("sequential_executor")


@pytest.fixture
def parent(tmp_path):
    """parent with its section sub-DAG, backfilled and successful for 2024-01-01 and 2024-01-02."""
    dags = backfilled(tmp_path, "parent", SUB.replace("RETRIES", "0"), "-s", "2024-01-01", "-e", "2024-01-02")
    dags.forget()
    return dags


def listed(output: str) -> list[str]:
    return sorted(line.split()[1] for line in output.splitlines() if line.startswith("<TaskInstance:"))


def test_a_subdag_task_runs_the_child_dag_for_the_same_logical_date_and_run(parent):
    child = run_map("parent.section")
    assert list(child) == ["2024-01-01", "2024-01-02"]
    assert {(r["run_id"], r["run_type"], r["state"]) for r in child.values()} == {
        (f"backfill__{d}T00:00:00+00:00", "backfill", "success") for d in ("2024-01-01", "2024-01-02")}
    assert child["2024-01-01"]["data_interval_end"] == run_map("parent")["2024-01-01"]["data_interval_end"]
    assert set(states("parent.section").values()) == {"success"}
    assert set(states("parent").values()) == {"success"}


def test_the_subdag_task_fails_when_the_child_run_fails_and_its_retry_reruns_the_failed_child_tasks(tmp_path):
    dags = make_dags(tmp_path, parent=SUB.replace("RETRIES", "1"))
    (dags.state / "flaky_on").touch()
    result = backfill(dags, "parent", "-s", "2024-01-01", "-e", "2024-01-01")
    assert result.exit_code == 0, result.output
    section = ti_map("parent")[("section", "2024-01-01")]
    assert (section["state"], section["try_number"]) == ("success", 2)
    x = ti_map("parent.section")[("x", "2024-01-01")]
    assert (x["state"], x["try_number"]) == ("success", 2)
    assert dags.lines().count("x 2024-01-01") == 2 and dags.lines().count("y 2024-01-01") == 1


def test_a_failing_child_fails_the_subdag_task_and_its_downstream(tmp_path):
    dags = make_dags(tmp_path, parent=SUB.replace("RETRIES", "0"))
    dags.fail("y", "2024-01-01")
    result = backfill(dags, "parent", "-s", "2024-01-01", "-e", "2024-01-01")
    assert result.exit_code == 1
    assert run_map("parent.section")["2024-01-01"]["state"] == "failed"
    got = states("parent")
    assert (got[("section", "2024-01-01")], got[("end", "2024-01-01")]) == ("failed", "upstream_failed")


# -- clearing the parent's SubDagTask --------------------------------------------------------------

def test_clearing_the_subdag_task_also_clears_its_child_run(parent):
    args = ("-s", "2024-01-01", "-e", "2024-01-01", "-t", "^section$")
    assert listed(clear(parent, "parent", *args, "--dry-run").output) == [
        "parent.section", "parent.section.x", "parent.section.y"]
    result = clear(parent, "parent", *args, "-y")
    assert result.exit_code == 0, result.output
    assert states("parent")[("section", "2024-01-01")] is None
    assert {states("parent.section")[(t, "2024-01-01")] for t in "xy"} == {None}
    assert run_map("parent.section")["2024-01-01"]["state"] == "queued"
    assert states("parent.section")[("x", "2024-01-02")] == "success"


def test_exclude_subdags_leaves_the_child_run_alone_in_the_listing_and_the_clearing(parent):
    args = ("-s", "2024-01-01", "-e", "2024-01-01", "-t", "^section$", "-x")
    assert listed(clear(parent, "parent", *args, "--dry-run").output) == ["parent.section"]
    assert clear(parent, "parent", *args, "-y").exit_code == 0
    assert states("parent")[("section", "2024-01-01")] is None
    assert set(states("parent.section").values()) == {"success"}


# -- clearing inside the child ----------------------------------------------------------------------

def test_clearing_inside_the_child_also_clears_the_parent_subdag_task_and_its_downstream(parent):
    args = ("-s", "2024-01-02", "-e", "2024-01-02", "-t", "^y$")
    assert listed(clear(parent, "parent.section", *args, "--dry-run").output) == [
        "parent.end", "parent.section", "parent.section.y"]
    result = clear(parent, "parent.section", *args, "-y")
    assert result.exit_code == 0, result.output
    got = states("parent")
    assert (got[("start", "2024-01-02")], got[("section", "2024-01-02")], got[("end", "2024-01-02")],
            got[("side", "2024-01-02")]) == ("success", None, None, "success")
    assert states("parent.section")[("x", "2024-01-02")] == "success"
    assert states("parent.section")[("y", "2024-01-02")] is None
    assert "it was cleared too, so the scheduler re-runs it" in result.output


def test_exclude_parentdag_leaves_the_parent_alone_in_the_listing_and_the_clearing(parent):
    args = ("-s", "2024-01-02", "-e", "2024-01-02", "-t", "^y$", "-X")
    assert listed(clear(parent, "parent.section", *args, "--dry-run").output) == ["parent.section.y"]
    result = clear(parent, "parent.section", *args, "-y")
    assert result.exit_code == 0
    assert set(states("parent").values()) == {"success"}
    assert states("parent.section")[("y", "2024-01-02")] is None
    assert "it was not cleared (-X)" in result.output


def test_the_scheduler_reruns_a_cleared_child_through_its_parent(parent):
    clear(parent, "parent.section", "-s", "2024-01-02", "-e", "2024-01-02", "-t", "^y$", "-y")
    result = scheduler(parent, "-n", "1")
    assert result.exit_code == 0, result.output
    assert sorted(parent.lines()) == ["end 2024-01-02", "y 2024-01-02"]
    assert set(states("parent").values()) == {"success"}
    assert set(states("parent.section").values()) == {"success"}
    assert ti_map("parent.section")[("y", "2024-01-02")]["try_number"] == 2
    assert ti_map("parent")[("section", "2024-01-02")]["try_number"] == 2
    assert "parent.section" not in result.output  # the child is never scheduled on its own


def test_a_subdag_task_in_a_forked_worker_drives_its_child_run_too(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "local")
    dags = make_dags(tmp_path, parent=SUB.replace("RETRIES", "0"))
    result = backfill(dags, "parent", "-s", "2024-01-01", "-e", "2024-01-02")
    assert result.exit_code == 0, result.output
    assert set(states("parent.section").values()) == {"success"}
    assert sorted(dags.lines()).count("x 2024-01-01") == 1
