"""Schedules of Airflow DAG files as the scheduler and the timetable see them: Airflow 3's trigger
schedules are due at their tick, Airflow 2's data intervals once they have ended; presets and deltas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from airflow_corpus import write_dag
from dateutil.relativedelta import relativedelta

from ledgerflow.engine.authoring.timetable import Timetable
from ledgerflow.engine.domain.scheduling import due_dates


def _dag(tmp_path, source: str, monkeypatch, mode: str):
    from ledgerflow.engine.authoring.dagbag import load_dagbag

    monkeypatch.setenv("LEDGERFLOW_AIRFLOW_COMPAT", mode)
    return load_dagbag(write_dag(tmp_path, source)).get("d")


SOURCE = ("from datetime import datetime\nfrom airflow import DAG\nfrom airflow.operators.empty import EmptyOperator\n"
          "with DAG('d', schedule='@daily', start_date=datetime(2024, 1, 1), catchup=True):\n"
          "    EmptyOperator(task_id='t')\n")
AT = datetime(2024, 1, 3, 12, tzinfo=UTC)


def test_an_airflow_2_daily_run_is_due_once_its_interval_has_ended(tmp_path, monkeypatch):
    dag = _dag(tmp_path, SOURCE, monkeypatch, "2")
    assert due_dates(dag, set(), AT) == [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2)]


def test_an_airflow_3_daily_run_is_due_at_its_tick(tmp_path, monkeypatch):
    dag = _dag(tmp_path, SOURCE, monkeypatch, "3")
    assert due_dates(dag, set(), AT) == [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    assert dag.timetable.data_interval(datetime(2024, 1, 3, tzinfo=UTC)) == (
        datetime(2024, 1, 3, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC))


@pytest.mark.parametrize(("preset", "after", "expected"), [
    ("@quarterly", datetime(2024, 2, 10, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)),
    ("@yearly", datetime(2024, 2, 10, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
    ("@weekly", datetime(2024, 1, 3, tzinfo=UTC), datetime(2024, 1, 7, tzinfo=UTC)),
])
def test_every_preset_fires_where_airflow_says(preset, after, expected):
    assert Timetable(preset).next_after(after) == expected


def test_a_timedelta_schedule_steps_from_where_it_is_walked(tmp_path):
    tt = Timetable(timedelta(hours=6))
    start = datetime(2024, 1, 1, 5, tzinfo=UTC)
    assert tt.logical_dates(start, start + timedelta(hours=12)) == [start, start + timedelta(hours=6),
                                                                    start + timedelta(hours=12)]
    assert tt.data_interval(start) == (start, start + timedelta(hours=6))


def test_a_relativedelta_schedule_follows_the_wall_clock_of_the_dag_zone():
    tt = Timetable(relativedelta(days=1), "Europe/Amsterdam")
    before_dst = datetime(2024, 3, 30, 23, tzinfo=UTC)  # midnight on 31 March in Amsterdam
    assert tt.next_after(before_dst) == datetime(2024, 3, 31, 22, tzinfo=UTC)  # a 23-hour day


def test_at_once_is_one_run_at_the_start_and_none_is_no_run():
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert Timetable("@once").logical_dates(start, start + timedelta(days=9)) == [start]
    assert Timetable(None).logical_dates(start, start + timedelta(days=9)) == []


def test_a_schedule_that_does_not_move_forward_is_refused():
    from ledgerflow.engine.errors import DagDefinitionError

    with pytest.raises(DagDefinitionError, match="it must move forward"):
        Timetable(timedelta(0))


def test_a_naive_start_date_is_in_the_default_zone_and_a_pendulum_one_gives_the_dag_its_zone(tmp_path, monkeypatch):
    source = ("import pendulum\nfrom datetime import datetime\nfrom airflow import DAG\n"
              "a = DAG('d', schedule='@daily', start_date=datetime(2024, 1, 1))\n"
              "b = DAG('e', schedule='@daily', start_date=pendulum.datetime(2024, 1, 1, tz='Asia/Tokyo'))\n")
    dag = _dag(tmp_path, source, monkeypatch, "2")
    from ledgerflow.engine.authoring.dagbag import load_dagbag

    other = load_dagbag(tmp_path / "dags").get("e")
    assert (dag.timezone, dag.start_date) == ("UTC", datetime(2024, 1, 1, tzinfo=UTC))
    assert (other.timezone, other.start_date) == ("Asia/Tokyo", datetime(2023, 12, 31, 15, tzinfo=UTC))
    monkeypatch.setenv("AIRFLOW__CORE__DEFAULT_TIMEZONE", "America/New_York")
    assert load_dagbag(tmp_path / "dags").get("d").start_date == datetime(2024, 1, 1, 5, tzinfo=UTC)
