"""The dry run renders each task as its try would see it: an adopted run keeps its own run id and type."""

from __future__ import annotations

import pytest
from dagfiles import backfill, cli, make_dags

pytestmark = pytest.mark.usefixtures("sequential_executor")

SHOWS_ITS_RUN = '''
with DAG("shows_run", schedule="@daily", start_date=datetime(2024, 1, 1), params={"factor": 2}) as dag:
    BashTask("echo", bash_command="echo {{ run_id }} {{ dag_run.run_type }} {{ params.factor }}")
'''


def test_a_dry_run_renders_an_adopted_manual_run_with_its_own_run_id_and_a_new_date_with_a_backfill_one(
        tmp_path, database_url):
    dags = make_dags(tmp_path, shows_run=SHOWS_ITS_RUN)
    assert cli("dags", "trigger", "shows_run", "-S", str(dags.folder), "-e", "2024-01-02",
               "-c", '{"factor": 7}').exit_code == 0
    result = backfill(dags, "shows_run", "-s", "2024-01-02", "-e", "2024-01-03", "-n")
    assert result.exit_code == 0, result.output
    commands = [line.strip() for line in result.output.splitlines() if line.strip().startswith("bash_command:")]
    assert commands == [
        "bash_command: echo manual__2024-01-02T00:00:00+00:00 manual 7",
        "bash_command: echo backfill__2024-01-03T00:00:00+00:00 backfill 2",
    ]
