"""A command loads only what it uses: `--help` and a read of the views start without the heavy layers."""

from __future__ import annotations

import json
import subprocess
import sys

from cli_runner import subprocess_env
from dagfiles import backfill, make_dags

# Runs the console script's main() and prints, whatever it exits with, the modules it loaded.
PROBE = """
import json, sys
from ledgerflow.cli.main import main
sys.argv = ["ledgerflow", *sys.argv[1:]]
try:
    main()
finally:
    sys.stdout.flush()
    sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""
NEVER = ("argon2", "jwt", "fastapi", "uvicorn", "jinja2", "croniter", "pendulum",
         "ledgerflow.engine.authoring", "ledgerflow.engine.runtime", "ledgerflow.engine.application.users",
         "ledgerflow.api")


def _loaded(env: dict[str, str], *args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return set(json.loads(done.stderr.rsplit("MODULES ", 1)[1]))


def _heavy(loaded: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if any(m == n or m.startswith(n + ".") for n in names))


def test_help_loads_neither_the_engine_nor_pydantic_rich_or_the_database_driver(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    loaded = _loaded(subprocess_env(dags, database_url), "--help")
    assert _heavy(loaded, (*NEVER, "pydantic", "rich", "psycopg", "eventsourcing", "ledgerflow.engine")) == []


def test_list_runs_loads_no_dag_file_layer_no_airflow_layer_and_no_password_hashing(tmp_path, database_url):
    dags = make_dags(tmp_path, "pychain")
    assert backfill(dags, "pychain", "-s", "2024-01-01", "-e", "2024-01-02", "-m").exit_code == 0
    loaded = _loaded(subprocess_env(dags, database_url), "dags", "list-runs", "pychain")
    assert "ledgerflow.engine.application.service" in loaded  # it did read the runs
    assert _heavy(loaded, NEVER) == []
