"""Sensors in poke mode: poke until done (PokeReturnValue's value to XCom), a timeout fails without
retries or skips with soft_fail, reschedule mode runs as poke, deferrable and ExternalTaskSensor refused."""

from __future__ import annotations

import pytest
from airflow_corpus import backfill, by_day, returns, states, write_dag
from cli_runner import cli

pytestmark = pytest.mark.usefixtures("database_url")

SENSORS = """
import os
from datetime import datetime, timedelta
from pathlib import Path
from airflow import DAG
from airflow.decorators import task
from airflow.sensors.base import PokeReturnValue
from airflow.sensors.python import PythonSensor
from airflow.sensors.bash import BashSensor
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.sensors.date_time import DateTimeSensor
from airflow.operators.bash import BashOperator

def third_poke():
    counter = Path(os.environ["POKES"])
    counter.write_text(str(int(counter.read_text() or "0") + 1) if counter.exists() else "1")
    return int(counter.read_text()) >= 3

with DAG("sensing", schedule="@daily", start_date=datetime(2024, 1, 1),
         default_args={"retries": 3, "retry_delay": timedelta(0)}):
    waits = PythonSensor(task_id="waits", python_callable=third_poke, poke_interval=0.2, timeout=30)
    waits >> BashOperator(task_id="after", bash_command="echo ran")
    PythonSensor(task_id="never", python_callable=lambda: False, poke_interval=0.2, timeout=0.5)
    PythonSensor(task_id="soft", python_callable=lambda: False, poke_interval=0.2, timeout=0.5, soft_fail=True,
                 mode="reschedule")
    BashSensor(task_id="bash_sensor", bash_command="test {{ ds }} = 2024-01-01", poke_interval=0.2, timeout=5)
    TimeDeltaSensor(task_id="long_past", delta=timedelta(hours=1), poke_interval=0.2)
    DateTimeSensor(task_id="passed", target_time="{{ data_interval_end.add(hours=1) }}", poke_interval=0.2)
    DateTimeSensor(task_id="future", target_time=datetime(2999, 1, 1), poke_interval=0.2, timeout=0.5,
                   soft_fail=True)

    @task.sensor(poke_interval=0.2, timeout=5)
    def with_value(ds=None):
        return PokeReturnValue(is_done=True, xcom_value=f"ready on {ds}")

    with_value()
"""


def test_sensors_poke_until_done_and_time_out_as_airflow_does(tmp_path, monkeypatch):
    monkeypatch.setenv("POKES", str(tmp_path / "pokes"))
    folder = write_dag(tmp_path, SENSORS)
    result = backfill(folder, "sensing", "-s", "2024-01-01", "--continue-on-failures")
    assert result.exit_code == 1
    assert by_day(states("sensing")) == {
        ("waits", "2024-01-01"): "success", ("after", "2024-01-01"): "success",
        ("never", "2024-01-01"): "failed", ("soft", "2024-01-01"): "skipped",
        ("bash_sensor", "2024-01-01"): "success", ("long_past", "2024-01-01"): "success",
        ("with_value", "2024-01-01"): "success", ("passed", "2024-01-01"): "success",
        ("future", "2024-01-01"): "skipped"}
    assert (tmp_path / "pokes").read_text() == "3"  # one try poked three times
    assert "AirflowSensorTimeout: Sensor has timed out" in result.output
    tries = cli("tasks", "states-for-dag-run", "sensing", "backfill__2024-01-01T00:00:00+00:00", "-o", "json")
    assert '"try_number": 1' in tries.output and '"try_number": 2' not in tries.output  # a timeout is not retried
    assert returns("sensing")["with_value", "2024-01-01"] == "ready on 2024-01-01"


@pytest.mark.parametrize(("source", "named"), [
    ("from airflow.sensors.external_task import ExternalTaskSensor\n", "airflow.sensors.external_task"),
    ("from airflow.sensors.python import PythonSensor\n"
     "with DAG('d', schedule=None, start_date=datetime(2024, 1, 1)):\n"
     "    PythonSensor(task_id='s', python_callable=bool, deferrable=True)\n", "deferrable sensors"),
])
def test_deferrable_sensors_and_external_task_sensor_are_refused_naming_them(tmp_path, source, named):
    folder = write_dag(tmp_path, "from datetime import datetime\nfrom airflow import DAG\n" + source)
    result = cli("dags", "list", "-S", str(folder))
    assert named in result.output


def test_silent_fail_pokes_on_never_fail_skips_and_backoff_grows_the_interval_up_to_max_wait(tmp_path, monkeypatch):
    monkeypatch.setenv("POKES", str(tmp_path / "pokes"))
    folder = write_dag(tmp_path, """
import os, time
from datetime import datetime
from pathlib import Path
from airflow import DAG
from airflow.sensors.python import PythonSensor

def flaky():
    counter = Path(os.environ["POKES"])
    seen = counter.read_text().split() if counter.exists() else []
    counter.write_text(" ".join([*seen, str(time.monotonic())]))
    if len(seen) < 4:
        raise ConnectionError("not reachable yet")
    return True

def broken():
    raise ConnectionError("down")

with DAG("sensor_flags", schedule="@daily", start_date=datetime(2024, 1, 1)):
    PythonSensor(task_id="silent", python_callable=flaky, silent_fail=True, poke_interval=0.2,
                 exponential_backoff=True, max_wait=0.5, timeout=30)
    PythonSensor(task_id="never", python_callable=broken, never_fail=True, poke_interval=0.2, timeout=5)
    PythonSensor(task_id="loud", python_callable=broken, poke_interval=0.2, timeout=5)
""")
    assert backfill(folder, "sensor_flags", "-s", "2024-01-01", "--continue-on-failures").exit_code == 1
    assert by_day(states("sensor_flags")) == {("silent", "2024-01-01"): "success",
                                              ("never", "2024-01-01"): "skipped",
                                              ("loud", "2024-01-01"): "failed"}
    moments = [float(m) for m in (tmp_path / "pokes").read_text().split()]
    gaps = [b - a for a, b in zip(moments, moments[1:], strict=False)]
    assert len(gaps) == 4
    assert 0.2 <= gaps[0] < 0.35 and 0.4 <= gaps[1] < 0.55  # doubled
    assert all(0.5 <= gap < 0.7 for gap in gaps[2:])  # then held at max_wait
