"""A pool's slots hold across the DAGs one scheduler drives at once (one thread each)."""

from __future__ import annotations

import pytest
from clear_support import scheduler
from dag_folders import most_at_once
from dagfiles import cli, make_dags, run_states


@pytest.fixture(autouse=True)
def _local_executor(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    """Tries run in worker processes, so two DAGs' tries can truly overlap."""
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "local")

POOLED = '''
with DAG("{dag_id}", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 2),
         catchup=True) as dag:
    PythonTask("{dag_id}_t", timed, op_kwargs={{"seconds": "0.5"}}, pool="{pool}")
'''


def _dags(tmp_path, pool: str):
    return make_dags(tmp_path, **{name: POOLED.format(dag_id=name, pool=pool) for name in ("pa", "pb", "pc")})


def _unpaused(dags) -> None:
    for name in ("pa", "pb", "pc"):
        assert cli("dags", "unpause", name, "-S", str(dags.folder)).exit_code == 0


@pytest.mark.parametrize("slots", [1, 2])
def test_a_pools_slots_bound_the_tries_running_at_once_across_every_dag_the_scheduler_drives(tmp_path, slots):
    dags = _dags(tmp_path, "shared")
    assert cli("pools", "set", "shared", str(slots), "-y").exit_code == 0
    _unpaused(dags)
    result = scheduler(dags, "-n", "1")
    assert result.exit_code == 0, result.output
    assert all(run_states(name) == {"2024-01-01": "success", "2024-01-02": "success"} for name in ("pa", "pb", "pc"))
    assert len(dags.lines()) == 12
    assert most_at_once(dags.lines()) == slots  # never more; and as many as the slots let run
