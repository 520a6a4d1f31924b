"""Clears that race on the same runs: both land, nothing lost, nothing applied twice."""

from __future__ import annotations

import sys
import time

import pytest
from clear_support import CHAIN, backfilled, run_events
from dagfiles import REPO, backfill, query, states, subprocess_env

from ledgerflow.engine.application.clear import ClearTaskInstances, clear_task_instances, plan_clear
from ledgerflow.engine.domain.operation import new_operation
from ledgerflow.engine.errors import ConcurrentModification
from ledgerflow.projections.projector import ViewProjector

DATES = ("-s", "2024-01-01", "-e", "2024-01-20")
MANY = ("-s", "2024-01-01", "-e", "2024-07-18")


pytestmark = pytest.mark.usefixtures("sequential_executor")


@pytest.fixture
def chain(tmp_path):
    return backfilled(tmp_path, "chain", CHAIN, *DATES, "-m")


def _command(dags, regex: str, *, yes: bool = True) -> ClearTaskInstances:
    return ClearTaskInstances(dag_id="chain", task_regex=regex, subdir=dags.folder, yes=yes)


def _versions_are_dense(database_url: str) -> bool:
    rows = query(database_url, "SELECT originator_id, count(*) AS n, max(originator_version) AS top "
                               "FROM ledgerflow_events GROUP BY originator_id")
    return all(r["n"] == r["top"] for r in rows)


def test_a_clear_planned_before_another_landed_is_replanned_and_lands(chain, ledger, database_url):
    ViewProjector(ledger).catch_up()
    first = plan_clear(ledger, _command(chain, "^a$"))
    second = plan_clear(ledger, _command(chain, "^b$"))
    clear_task_instances(ledger, first, new_operation("tasks clear", actor="one", reason=None))
    landed = clear_task_instances(ledger, second, new_operation("tasks clear", actor="two", reason=None))
    assert landed.task_instances == 20
    ViewProjector(ledger).catch_up()
    got = states("chain")
    assert all(got[(t, d)] is None for (t, d) in got if t in "ab")
    assert all(got[(t, d)] == "success" for (t, d) in got if t == "c")
    cleared = run_events(database_url, "Cleared")
    assert len(cleared) == 40
    assert {e["actor"]: len([c for c in cleared if c["actor"] == e["actor"]]) for e in cleared} == {
        "one": 20, "two": 20}
    first_runs = [e for e in cleared if e["actor"] == "one"]
    assert {(e["run_from"], e["run_to"]) for e in first_runs} == {("success", "queued")}
    assert {(e["run_from"], e["run_to"]) for e in cleared if e["actor"] == "two"} == {("queued", "queued")}
    summary = query(database_url, "SELECT actor, summary FROM operation WHERE name = 'tasks clear'")
    assert {r["actor"]: r["summary"]["attempts"] for r in summary} == {"one": 1, "two": 2}
    assert _versions_are_dense(database_url)


def test_a_confirmed_list_that_changed_meanwhile_is_refused_not_rewritten(chain, ledger, database_url):
    ViewProjector(ledger).catch_up()
    confirmed = plan_clear(ledger, _command(chain, "^a$|^b$", yes=False))
    clear_task_instances(ledger, plan_clear(ledger, _command(chain, "^b$")),
                         new_operation("tasks clear", actor="other", reason=None))
    before = query(database_url, "SELECT count(*) AS n FROM ledgerflow_events")[0]["n"]
    with pytest.raises(ConcurrentModification, match="while you were confirming"):
        clear_task_instances(ledger, confirmed, new_operation("tasks clear", actor="me", reason=None))
    assert query(database_url, "SELECT count(*) AS n FROM ledgerflow_events")[0]["n"] == before


RACER = """
import importlib, pkgutil, sys, time
import ledgerflow
for found in pkgutil.walk_packages(ledgerflow.__path__, 'ledgerflow.'):  # warm, so both start at once
    if not found.name.endswith('__main__'):
        importlib.import_module(found.name)
from ledgerflow.cli.main import app
at = float(sys.argv[1])
time.sleep(max(0.0, at - time.time()))
sys.argv = ["ledgerflow", *sys.argv[2:]]
app()
"""


def test_two_clear_processes_started_at_the_same_moment_on_overlapping_runs_both_land(chain, database_url):
    import subprocess

    assert backfill(chain, "chain", *MANY, "-m").exit_code == 0
    rounds = []
    for round_ in range(3):
        at = time.time() + 1.5
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(at), "tasks", "clear", "chain", "-S", str(chain.folder),
                 "-t", regex, "-y", "--actor", f"{who}{round_}"],
                cwd=REPO, env=subprocess_env(chain, database_url), stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True,
            )
            for who, regex in (("left", "^a$|^b$"), ("right", "^b$|^c$"))
        ]
        outs = [p.communicate(timeout=60) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        rounds.append(outs)
        assert backfill(chain, "chain", *MANY, "-m").exit_code == 0  # everything success again
    ops = query(database_url, "SELECT actor, summary FROM operation WHERE name = 'tasks clear'")
    assert len(ops) == 6
    cleared = run_events(database_url, "Cleared")
    per_op = {r["actor"]: r["summary"]["task_instances"] for r in ops}
    assert {a: sum(len(e["changes"]) for e in cleared if e["actor"] == a) for a in per_op} == per_op
    for round_ in range(3):
        left, right = per_op[f"left{round_}"], per_op[f"right{round_}"]
        assert left + right == 200 * 3  # b is cleared once, by whichever landed first; a and c once each
    assert _versions_are_dense(database_url)
