"""What the CLI contract tests share: the daily and berlin DAG files, the `dags` fixture writing them
into the test's DAG folder, and run_json (a command's `-o json` output, decoded)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from cli_runner import cli_json

DAILY = """
from datetime import datetime, timedelta
from ledgerflow import DAG, EmptyTask, BashTask
with DAG("daily", schedule="@daily", start_date=datetime(2024, 1, 1),
         default_args={"retries": 2}) as dag:
    EmptyTask("extract") >> BashTask("load", bash_command="echo {{ ds }}", retries=0)
"""
BERLIN = """
from ledgerflow import DAG, EmptyTask
with DAG("berlin", schedule="0 9 * * *", timezone="Europe/Berlin") as dag:
    EmptyTask("only")
"""


def run_json(*args: str):
    return cli_json(*args, "-o", "json")


@pytest.fixture
def dags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "daily.py").write_text(textwrap.dedent(DAILY))
    (folder / "berlin.py").write_text(textwrap.dedent(BERLIN))
    monkeypatch.setenv("LEDGERFLOW_DAGS_FOLDER", str(folder))
    return folder
