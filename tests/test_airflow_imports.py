"""The `airflow` import surface: what a DAG file may import loads with no Airflow installed; anything
else is a broken DAG file whose one-line error names the import and says what is supported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from airflow_corpus import backfill, dag_folder, write_dag
from cli_runner import cli, cli_json
from recorded import event_count
from refusals import assert_refused

pytestmark = pytest.mark.usefixtures("database_url")

SUPPORTED_PATHS = [
    "from airflow import DAG",
    "from airflow.models import DAG, BaseOperator, Variable, Param",
    "from airflow.models.dag import DAG",
    "from airflow.sdk import DAG, dag, task, task_group, BaseOperator, chain, Param, Variable, TriggerRule, Label",
    "from airflow.decorators import dag, task, task_group",
    "from airflow.operators.bash import BashOperator",
    "from airflow.operators.bash_operator import BashOperator",
    "from airflow.operators.python import PythonOperator, BranchPythonOperator, ShortCircuitOperator, "
    "get_current_context",
    "from airflow.operators.empty import EmptyOperator",
    "from airflow.operators.dummy import DummyOperator",
    "from airflow.operators.latest_only import LatestOnlyOperator",
    "from airflow.providers.standard.operators.bash import BashOperator",
    "from airflow.providers.standard.operators.python import PythonOperator",
    "from airflow.providers.standard.operators.empty import EmptyOperator",
    "from airflow.models.baseoperator import chain, cross_downstream, chain_linear",
    "from airflow.utils.trigger_rule import TriggerRule",
    "from airflow.models.param import Param",
    "from airflow.utils.dates import days_ago",
    "from airflow.utils.task_group import TaskGroup",
    "from airflow.exceptions import AirflowSkipException, AirflowFailException, AirflowException",
    "from airflow.hooks.base import BaseHook",
    "from airflow.operators import bash",
    "import airflow.operators.python",
]


@pytest.mark.parametrize("line", SUPPORTED_PATHS)
def test_each_supported_import_path_loads(tmp_path, line):
    folder = write_dag(tmp_path, f"{line}\nfrom airflow import DAG as _D\nwith _D('d', schedule=None):\n    pass\n")
    result = cli("dags", "list", "-S", str(folder), "-o", "json")
    assert result.exit_code == 0, result.output
    assert "Broken DAG" not in result.stderr, result.stderr
    assert [d["dag_id"] for d in __import__("json").loads(result.stdout)] == ["d"]


@pytest.mark.parametrize(("line", "named"), [
    ("from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator", "airflow.providers.amazon"),
    ("from airflow.operators.trigger_dagrun import TriggerDagRunOperator", "airflow.operators.trigger_dagrun"),
    ("from airflow.sensors.external_task import ExternalTaskSensor", "airflow.sensors"),
    ("from airflow.operators.python import PythonVirtualenvOperator",
     "airflow.operators.python.PythonVirtualenvOperator"),
    ("from airflow.decorators import task\ntask.virtualenv", "@task.virtualenv"),
])
def test_an_unsupported_import_is_a_broken_dag_file_naming_it(tmp_path, database_url, line, named):
    folder = write_dag(tmp_path, f"{line}\nfrom airflow import DAG\nwith DAG('bad', schedule=None):\n    pass\n")
    before = event_count(database_url)
    result = cli("dags", "backfill", "bad", "-S", str(folder), "-s", "2024-01-01", "-y")
    error = assert_refused(result, database_url, before, named, "is not supported" if "@" in named else "unsupported")
    assert "ledgerflow runs Airflow's core authoring surface" in error


def test_the_corpus_file_with_a_provider_import_is_refused_with_exit_2(tmp_path, database_url):
    folder = dag_folder(tmp_path, "unsupported_provider")
    before = event_count(database_url)
    result = backfill(folder, "unsupported_provider", "-s", "2024-01-01")
    assert_refused(result, database_url, before, "unsupported import airflow.providers.amazon")


def test_dynamic_task_mapping_is_refused_when_the_file_loads(tmp_path, database_url):
    folder = dag_folder(tmp_path, "dynamic_mapping")
    before = event_count(database_url)
    result = backfill(folder, "dynamic_mapping", "-s", "2024-01-01")
    assert_refused(result, database_url, before, "task 'add_one': dynamic task mapping (.partial/.expand)",
                   "is not supported")


def test_a_file_that_falls_back_on_import_error_still_loads(tmp_path):
    folder = write_dag(tmp_path,
        "try:\n    from airflow.providers.slack.operators.slack import SlackAPIPostOperator\n"
        "except ImportError:\n    SlackAPIPostOperator = None\n"
        "from airflow import DAG\nwith DAG('d', schedule=None):\n    pass\n")
    assert [d["dag_id"] for d in cli_json("dags", "list", "-S", str(folder), "-o", "json")] == ["d"]


def test_airflow_modules_are_served_only_while_dag_files_load(tmp_path):
    folder = dag_folder(tmp_path, "tutorial")
    cli_json("dags", "list", "-S", str(folder), "-o", "json")
    assert not [name for name in sys.modules if name == "airflow" or name.startswith("airflow.")]
    with pytest.raises(ImportError):
        __import__("airflow.operators.bash")


def test_an_unknown_operator_argument_is_refused_naming_it(tmp_path, database_url):
    folder = write_dag(tmp_path, "from airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
                                 "with DAG('d', schedule=None):\n"
                                 "    BashOperator(task_id='t', bash_command='true', colour='red')\n")
    before = event_count(database_url)
    result = cli("dags", "backfill", "d", "-S", str(folder), "-s", "2024-01-01", "-y")
    assert_refused(result, database_url, before, "Invalid arguments were passed to BashOperator (task_id: t)",
                   "colour")


def test_arguments_that_change_nothing_are_accepted_and_kept_on_the_dag_model(tmp_path):
    from ledgerflow.engine.authoring.dagbag import load_dag

    folder = write_dag(tmp_path,
        "from datetime import datetime\nfrom airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
        "with DAG('d', schedule='@daily', start_date=datetime(2024, 1, 1), tags=['t'], doc_md='# doc',\n"
        "         owner_links={'o': 'https://example.com'}, is_paused_upon_creation=False,\n"
        "         default_args={'owner': 'team', 'email': ['x@example.com'], 'priority_weight': 5,\n"
        "                       'on_failure_callback': print, 'queue': 'q1', 'sla': None}):\n"
        "    BashOperator(task_id='t', bash_command='true')\n")
    dag = load_dag(folder, "d")
    task = dag.tasks["t"]
    assert (task.owner, task.email, task.priority_weight, task.on_failure_callback, task.queue) == (
        "team", ["x@example.com"], 5, print, "q1")
    assert (dag.tags, dag.doc_md, dag.is_paused_upon_creation) == (["t"], "# doc", False)
    assert task.retry_delay.total_seconds() == 300  # Airflow's default, not ledgerflow's 0
    assert dag.catchup is True  # Airflow 2's catchup_by_default


def test_airflow_2_takes_dag_arguments_positionally_and_airflow_3_refuses_them(tmp_path, monkeypatch):
    from ledgerflow.engine.authoring.dagbag import load_dagbag

    folder = write_dag(tmp_path, "from datetime import datetime\nfrom airflow import DAG\n"
                                 "d = DAG('d', 'a description', '@daily', None, None, datetime(2024, 1, 1))\n")
    dag = load_dagbag(folder).get("d")
    assert (dag.description, dag.schedule, dag.start_date.year) == ("a description", "@daily", 2024)
    monkeypatch.setenv("LEDGERFLOW_AIRFLOW_COMPAT", "3")
    assert "takes dag_id as its only positional argument" in load_dagbag(folder).errors[str(folder / "d.py")]


def test_the_installed_console_script_backfills_a_corpus_file(tmp_path, database_url):
    import subprocess

    from airflow_corpus import dag_folder

    folder = dag_folder(tmp_path, "taskflow_etl")
    exe = Path(sys.executable).with_name("ledgerflow")  # the console script the package installs
    done = subprocess.run([str(exe), "dags", "backfill", "tutorial_taskflow_api", "-S", str(folder),
                           "-s", "2024-01-10", "-y"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = cli_json("tasks", "states", "tutorial_taskflow_api", "-o", "json")
    assert {r["task_id"]: r["state"] for r in rows} == {"extract": "success", "transform": "success",
                                                        "load": "success"}
