"""The DAG files the CLI scenarios run: 10-task chains, hourly over the benchmark year."""

from __future__ import annotations

from pathlib import Path

from bench_harness import BENCH_YEAR, Context


def write_dags(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench_dags.py").write_text(f'''"""Benchmark DAGs: 10-task chains."""
from datetime import datetime

from ledgerflow import DAG, BashTask, EmptyTask, PythonTask


def noop():
    pass


def chain(dag_id, make, schedule):
    with DAG(dag_id, schedule=schedule, start_date=datetime({BENCH_YEAR}, 1, 1),
             catchup=True) as dag:
        previous = None
        for i in range(10):
            task = make(f"t{{i:02d}}")
            if previous is not None:
                previous >> task
            previous = task
    return dag


bench_hourly = chain("bench_hourly", lambda t: PythonTask(t, python_callable=noop), "@hourly")
bench_python = chain("bench_python", lambda t: PythonTask(t, python_callable=noop), "@hourly")
bench_bash = chain("bench_bash", lambda t: BashTask(t, bash_command="true"), "@hourly")
bench_empty = chain("bench_empty", lambda t: EmptyTask(t), "@hourly")
''')


def dag_env(ctx: Context, url: str | None) -> dict[str, str]:
    """The CLI's environment: these DAGs, a private home, and the scenario's database if any."""
    env = {"LEDGERFLOW_DAGS_FOLDER": str(ctx.dags), "LEDGERFLOW_HOME": str(ctx.tmp / "home")}
    if url:
        env["LEDGERFLOW_DATABASE_URL"] = url
    return env
