"""The one import for tests that write DAG files into their tmp dir, drive them and read the outcome.

It only re-exports; each part lives in a module named for what it does:

- dag_sources.py: the PRELUDE and the named DAG bodies (DAGS) every DAG file is made from;
- dag_folders.py: a test's DAG folder and state directory (Dags, make_dags) and the executions log;
- cli_runner.py: the CLI run in this process (`cli`, the only in-process runner) or as a subprocess;
- recorded.py: runs, task instances, events and rows, read back through the CLI and SQL;
- seeded_runs.py: runs recorded as if the scheduler or a trigger had made or finished them.

clear_support.py and audit_support.py hold what only the clear and the audit tests need.
"""

from cli_runner import REPO, backfill, cli, cli_json, spawn, spawn_backfill, subprocess_env, wait_for
from dag_folders import Dags, make_dags, most_at_once, spans
from dag_sources import DAGS, PRELUDE, bash_work
from recorded import event_count, events, query, run_map, run_states, runs, states, ti_changes, ti_map, tis
from seeded_runs import finish_run, seed_run

__all__ = [
    "DAGS",
    "PRELUDE",
    "REPO",
    "Dags",
    "backfill",
    "bash_work",
    "cli",
    "cli_json",
    "event_count",
    "events",
    "finish_run",
    "make_dags",
    "most_at_once",
    "query",
    "run_map",
    "run_states",
    "runs",
    "seed_run",
    "spans",
    "spawn",
    "spawn_backfill",
    "states",
    "subprocess_env",
    "ti_changes",
    "ti_map",
    "tis",
    "wait_for",
]
