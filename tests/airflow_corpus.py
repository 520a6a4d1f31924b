"""The Airflow DAG corpus (tests/airflow_dags): a file copied unchanged into a test's DAG folder,
backfilled through the CLI, and its outcome read back (states per task and logical date, XComs)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from cli_runner import cli, cli_json

CORPUS = Path(__file__).resolve().parent / "airflow_dags"


def dag_folder(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(CORPUS / f"{name}.py", folder / f"{name}.py")
    return folder


def write_dag(tmp_path: Path, source: str, name: str = "d") -> Path:
    """A DAG folder holding one DAG file with this source."""
    folder = tmp_path / "dags"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(source)
    return folder


def backfill(folder: Path, dag_id: str, *args: str) -> Any:
    return cli("dags", "backfill", dag_id, "-S", str(folder), "-y", *args)


def states(dag_id: str) -> dict[tuple[str, str], str | None]:
    """{(task_id, logical date as ISO in UTC): state}."""
    rows = cli_json("tasks", "states", dag_id, "-o", "json")
    return {(r["task_id"], r["logical_date"]): r["state"] for r in rows}


def by_day(found: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """The same, keyed by the logical date's day (runs at UTC midnight)."""
    return {(task, moment[:10]): value for (task, moment), value in found.items()}


def xcoms(dag_id: str) -> dict[tuple[str, str, str], Any]:
    """{(task_id, logical date's day, key): value} of every run's current XComs."""
    from ledgerflow.engine.application.service import Ledgerflow

    found = {}
    with Ledgerflow() as service:
        for run in cli_json("dags", "list-runs", dag_id, "-o", "json"):
            for row in service.xcom_entries(dag_id, run["run_id"]):
                found[row["task_id"], run["logical_date"][:10], row["key"]] = row["value"]
    return found


def returns(dag_id: str) -> dict[tuple[str, str], Any]:
    """{(task_id, day): return_value}."""
    return {(t, d): v for (t, d, k), v in xcoms(dag_id).items() if k == "return_value"}
