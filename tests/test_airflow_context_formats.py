"""Each template variable in Airflow's exact format, for the logical date 2022-09-01T00:10Z of a
`10 0 * * *` schedule (AIRFLOW_DAG_API.md 8.2); a dry run whose templates fail exits non-zero."""

from __future__ import annotations

import pytest
from airflow_corpus import backfill, dag_folder, returns, write_dag
from cli_runner import cli

pytestmark = pytest.mark.usefixtures("database_url")

RUN = "backfill__2022-09-01T00:10:00+00:00"
EXPECTED = {
    "ds": "2022-09-01", "ds_nodash": "20220901", "ts": "2022-09-01T00:10:00+00:00", "ts_nodash": "20220901T001000",
    "ts_nodash_with_tz": "20220901T001000+0000", "logical_date": "2022-09-01 00:10:00+00:00",
    "execution_date": "2022-09-01 00:10:00+00:00", "data_interval_start": "2022-09-01 00:10:00+00:00",
    "data_interval_end": "2022-09-02 00:10:00+00:00", "prev_ds": "2022-08-31", "prev_ds_nodash": "20220831",
    "next_ds": "2022-09-02", "next_ds_nodash": "20220902", "yesterday_ds": "2022-08-31",
    "yesterday_ds_nodash": "20220831", "tomorrow_ds": "2022-09-02", "tomorrow_ds_nodash": "20220902",
    "run_id": RUN, "task_instance_key_str": "context_formats__show__20220901",
    "prev_data_interval_start_success": "None", "prev_execution_date": "2022-08-31 00:10:00+00:00",
    "next_execution_date": "2022-09-02 00:10:00+00:00",
    "dag_run.run_id": RUN, "dag_run.run_type": "backfill", "dag_run.conf": "{}",
    "dag_run.logical_date": "2022-09-01T00:10:00+00:00", "dag.dag_id": "context_formats", "task.task_id": "show",
    "ti.try_number": "1", "ti.task_id": "show", "params.p": "from params", "pendulum": "9",
    "data_interval_end | ds": "2022-09-02",
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, database_pool):
    import os

    name = database_pool.take()
    os.environ["LEDGERFLOW_DATABASE_URL"] = database_pool.url(name)
    folder = dag_folder(tmp_path_factory.mktemp("ctx"), "context_formats")
    assert backfill(folder, "context_formats", "-s", "2022-09-01T00:10:00").exit_code == 0
    yield returns("context_formats")["show", "2022-09-01"]
    database_pool.give_back(name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_template_variable_has_airflows_format(rendered, name):
    assert rendered[name] == EXPECTED[name]


def test_a_dry_run_whose_templates_fail_to_render_exits_non_zero(tmp_path):
    folder = write_dag(tmp_path,
        "from datetime import datetime\nfrom airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
        "with DAG('d', schedule='@daily', start_date=datetime(2024, 1, 1)):\n"
        "    BashOperator(task_id='fine', bash_command='echo {{ ds }}')\n"
        "    BashOperator(task_id='bad', bash_command='echo {{ no_such_name }}')\n"
        "    BashOperator(task_id='config', bash_command=\"echo {{ conf.get('core', 'x') }}\")\n")
    result = cli("dags", "backfill", "d", "-S", str(folder), "-s", "2024-01-01", "-n")
    assert result.exit_code == 1, result.output
    assert "bash_command: echo 2024-01-01" in result.stdout
    assert "'no_such_name' is undefined" in result.stdout
    assert "Airflow's configuration (`conf`) is not available" in result.stdout
    assert "2 task template(s) failed to render" in result.stderr


def test_a_dry_run_whose_templates_render_exits_zero(tmp_path):
    folder = dag_folder(tmp_path, "macros_and_filters")
    result = cli("dags", "backfill", "macros_and_filters", "-S", str(folder), "-s", "2024-01-10", "-n")
    assert result.exit_code == 0, result.output
    assert "bash_command: echo 2024-01-09 2024-01-10" in result.stdout


def test_airflow_3_has_no_execution_date_so_a_template_using_it_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_AIRFLOW_COMPAT", "3")
    folder = dag_folder(tmp_path, "tutorial")
    (folder / "tutorial.py").write_text((folder / "tutorial.py").read_text().replace(
        "schedule_interval=", "schedule="))
    (folder / "x.py").write_text(
        "from datetime import datetime\nfrom airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
        "with DAG('x', schedule='@daily', start_date=datetime(2024, 1, 1)):\n"
        "    BashOperator(task_id='old', bash_command='echo {{ execution_date }}')\n")
    result = cli("dags", "backfill", "x", "-S", str(folder), "-s", "2024-01-01", "-n")
    assert result.exit_code == 1
    assert "'execution_date' is undefined" in result.stdout
