"""Running the ledgerflow CLI: in this process (`cli`, the one in-process runner) or as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dag_folders import Dags
from typer.testing import CliRunner, Result

REPO = Path(__file__).resolve().parent.parent


def cli(*args: str, input: str | None = None) -> Result:
    """Runs `ledgerflow ARGS` in this process (LEDGERFLOW_DATABASE_URL comes from the fixture).

    Whatever the exit code, the CLI never prints a Python traceback: errors are one line.
    """
    from ledgerflow.cli.main import app

    result = CliRunner().invoke(app, list(args), input=input)
    assert "Traceback" not in result.output, result.output
    return result


def cli_json(*args: str) -> Any:
    """Runs `ledgerflow ARGS`, which must succeed, and decodes what it printed as JSON."""
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def backfill(dags: Dags, dag_id: str, *args: str, input: str | None = None) -> Result:
    return cli("dags", "backfill", dag_id, "-S", str(dags.folder), *args, input=input)


def subprocess_env(dags: Dags, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "LEDGERFLOW_DATABASE_URL": database_url,
        "LEDGERFLOW_DAGS_FOLDER": str(dags.folder),
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def spawn(dags: Dags, database_url: str, *args: str, **extra_env: str) -> subprocess.Popen[str]:
    """Starts `python -m ledgerflow.cli ARGS` as a separate process."""
    return subprocess.Popen(
        [sys.executable, "-m", "ledgerflow.cli", *args],
        cwd=dags.folder.parent,
        env=subprocess_env(dags, database_url, **extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def spawn_backfill(dags: Dags, database_url: str, dag_id: str, *args: str, **extra_env: str) -> subprocess.Popen[str]:
    """Starts `python -m ledgerflow.cli dags backfill ...` as a separate process."""
    return spawn(dags, database_url, "dags", "backfill", dag_id, *args, **extra_env)


def finished(proc: subprocess.Popen[str], seconds: float = 60) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of a spawned command; one still running after `seconds` fails the test."""
    try:
        out, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"{' '.join(map(str, proc.args))} still running after {seconds} s") from None
    return proc.returncode, out, err


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Polls until the predicate gives a true value, which it returns."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
