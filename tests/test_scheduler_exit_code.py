"""The scheduler's exit code follows the contract: 1 when the work ran but tasks failed."""

import pytest
from dagfiles import cli, make_dags

pytestmark = pytest.mark.usefixtures("sequential_executor")

DAG = '''
with DAG("ticks", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonTask("a", work)
'''


def _triggered(tmp_path):
    dags = make_dags(tmp_path, ticks=DAG)
    assert cli("dags", "trigger", "ticks", "-S", str(dags.folder), "-e", "2024-01-02").exit_code == 0
    return dags


def test_a_scheduler_loop_whose_run_failed_exits_1(tmp_path):
    dags = _triggered(tmp_path)
    dags.fail("a", "2024-01-02")
    result = cli("scheduler", "-S", str(dags.folder), "--num-runs", "1")
    assert result.exit_code == 1, result.output
    assert "failed" in result.output


def test_a_scheduler_loop_whose_runs_succeeded_exits_0(tmp_path):
    dags = _triggered(tmp_path)
    result = cli("scheduler", "-S", str(dags.folder), "--num-runs", "1")
    assert result.exit_code == 0, result.output
    assert dags.lines() == ["a 2024-01-02"]
