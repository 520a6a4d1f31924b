"""Checklist items: built-in timetables by class name, owner_links validated, Airflow 3 without the
trigger-rule aliases, zip DAG archives refused."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime

import pytest
from airflow_corpus import write_dag
from cli_runner import cli

from ledgerflow.engine.authoring.dagbag import load_dagbag
from ledgerflow.engine.domain.scheduling import due_dates

AT = datetime(2024, 1, 3, 12, tzinfo=UTC)
HEAD = ("from datetime import datetime, timedelta\nfrom airflow import DAG\n"
        "from airflow.operators.empty import EmptyOperator\n")


def _bag(tmp_path, body: str, mode: str, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_AIRFLOW_COMPAT", mode)
    return load_dagbag(write_dag(tmp_path, HEAD + body))


@pytest.mark.parametrize(("imports", "schedule", "due", "interval_end"), [
    ("from airflow.timetables.interval import CronDataIntervalTimetable",
     "CronDataIntervalTimetable('0 0 * * *', timezone='UTC')", [1, 2], datetime(2024, 1, 2, tzinfo=UTC)),
    ("from airflow.timetables.trigger import CronTriggerTimetable",
     "CronTriggerTimetable('0 0 * * *', timezone='UTC')", [1, 2, 3], datetime(2024, 1, 1, tzinfo=UTC)),
    ("from airflow.timetables.interval import DeltaDataIntervalTimetable",
     "DeltaDataIntervalTimetable(timedelta(days=1))", [1, 2], datetime(2024, 1, 2, tzinfo=UTC)),
])
def test_built_in_timetables_schedule_by_their_class(tmp_path, monkeypatch, imports, schedule, due, interval_end):
    bag = _bag(tmp_path, f"{imports}\nwith DAG('d', schedule={schedule}, start_date=datetime(2024, 1, 1), "
                         f"catchup=True):\n    EmptyOperator(task_id='t')\n", "2", monkeypatch)
    dag = bag.get("d")
    assert due_dates(dag, set(), AT) == [datetime(2024, 1, d, tzinfo=UTC) for d in due]
    assert dag.timetable.data_interval(datetime(2024, 1, 1, tzinfo=UTC))[1] == interval_end


def test_timetable_argument_and_the_simple_timetables(tmp_path, monkeypatch):
    bag = _bag(tmp_path, "from airflow.timetables.simple import NullTimetable, OnceTimetable\n"
                         "with DAG('d', timetable=OnceTimetable(), start_date=datetime(2024, 1, 1)):\n"
                         "    EmptyOperator(task_id='t')\n"
                         "with DAG('n', schedule=NullTimetable(), start_date=datetime(2024, 1, 1)):\n"
                         "    EmptyOperator(task_id='t')\n", "2", monkeypatch)
    assert due_dates(bag.get("d"), set(), AT) == [datetime(2024, 1, 1, tzinfo=UTC)]
    assert bag.get("n").schedule is None


def test_an_unsupported_timetable_is_refused_naming_it(tmp_path, monkeypatch):
    bag = _bag(tmp_path, "from airflow.timetables.simple import ContinuousTimetable\n", "2", monkeypatch)
    assert "airflow.timetables.simple.ContinuousTimetable" in " ".join(bag.errors.values())


@pytest.mark.parametrize("argument", ["interval=timedelta(hours=1)", "run_immediately=True"])
def test_a_trigger_timetable_option_it_cannot_honour_is_refused_naming_it(tmp_path, monkeypatch, argument):
    bag = _bag(tmp_path, "from airflow.timetables.trigger import CronTriggerTimetable\n"
                         f"with DAG('d', schedule=CronTriggerTimetable('0 0 * * *', {argument}),\n"
                         "         start_date=datetime(2024, 1, 1)):\n"
                         "    EmptyOperator(task_id='t')\n", "3", monkeypatch)
    assert f"CronTriggerTimetable({argument.split('=')[0]}=...)" in " ".join(bag.errors.values())


def test_owner_links_must_be_urls_or_mailto(tmp_path, monkeypatch):
    bag = _bag(tmp_path, "with DAG('d', schedule=None, owner_links={'ok': 'mailto:a@b.c', 'bad': 'not a link'}):\n"
                         "    EmptyOperator(task_id='t')\n", "2", monkeypatch)
    assert "Wrong link format was used for the owner" in " ".join(bag.errors.values())
    assert "owner: bad, link: not a link" in " ".join(bag.errors.values())


@pytest.mark.parametrize(("mode", "loads"), [("2", True), ("3", False)])
def test_trigger_rule_aliases_are_gone_in_airflow_3(tmp_path, monkeypatch, mode, loads):
    bag = _bag(tmp_path, "with DAG('d', schedule=None):\n"
                         "    EmptyOperator(task_id='t', trigger_rule='none_failed_or_skipped')\n", mode, monkeypatch)
    assert ("d" in bag.dags) is loads
    if not loads:
        assert "'none_failed_or_skipped' is not a valid TriggerRule" in " ".join(bag.errors.values())


@pytest.mark.usefixtures("database_url")
def test_a_zip_dag_archive_is_refused_naming_it(tmp_path):
    folder = write_dag(tmp_path, HEAD + "with DAG('d', schedule=None):\n    EmptyOperator(task_id='t')\n")
    with zipfile.ZipFile(folder / "packed.zip", "w") as archive:
        archive.writestr("inside.py", HEAD)
    result = cli("dags", "list", "-S", str(folder))
    assert "packed.zip" in result.output
    assert "zip DAG archives are not supported" in result.output
