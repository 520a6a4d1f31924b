"""Benchmarks: ledgerflow measured against the physical limit of the same machine, side by side.

    python tests/benchmarks/run.py [--quick] [--only NAME[,NAME]] [--database-url URL]

Creates throwaway databases on the server given by --database-url, else
LEDGERFLOW_TEST_DATABASE_URL, else the local 127.0.0.1:5432 service, else an
embedded PostgreSQL in a temp dir; migrates a template once, gives each scenario
its own copy, drops them all at the end. Every figure is printed next to its
target and a reference measured in the same run, then one JSON line of figures.

A scenario whose command is not built yet prints "not available"; any other
error makes the script exit 1. A missed target does not change the exit code.

The harness, the figures, the generated histories and DAG files, and the scenarios grouped
by what they measure live in the bench_*.py modules beside this script; the prefix keeps
them from shadowing a library module, as the script's directory comes first on sys.path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench_api import scenario_api
from bench_backfills import scenario_backfill_m, scenario_backfill_object, scenario_backfill_real, scenario_clear
from bench_celery import scenario_celery
from bench_dag_files import write_dags
from bench_harness import FULL, QUICK, Context, Databases, dbname, server
from bench_latency import scenario_audit, scenario_cli
from bench_report import NotAvailable, Report, print_table, summary_line
from bench_scheduler import scenario_pick_next
from bench_throughput import scenario_append, scenario_rebuild
from bench_ui import scenario_ui_grid

SCENARIOS: dict[str, Callable[[Context], None]] = {
    "append": scenario_append,
    "rebuild": scenario_rebuild,
    "backfill-m": scenario_backfill_m,
    "backfill-object": scenario_backfill_object,
    "backfill-real": scenario_backfill_real,
    "clear": scenario_clear,
    "audit": scenario_audit,
    "cli": scenario_cli,
    "ui-grid": scenario_ui_grid,
    "pick-next": scenario_pick_next,
    "celery": scenario_celery,
    "api": scenario_api,
}
ALIASES = {"copy": "append", "raw-copy": "append", "memory": "backfill-m", "backfill": "backfill-m",
           "help": "cli", "list-runs": "cli", "1": "append", "2": "append", "3": "rebuild",
           "4": "backfill-m", "5": "backfill-real", "6": "clear", "7": "audit", "8": "cli",
           "9": "backfill-m", "10": "pick-next", "11": "celery", "12": "ui-grid", "13": "api", "http": "api"}


def chosen(only: str | None) -> list[str]:
    if not only:
        return list(SCENARIOS)
    names = []
    for raw in only.split(","):
        name = ALIASES.get(raw.strip().lower(), raw.strip().lower().replace("_", "-"))
        if name not in SCENARIOS:
            raise SystemExit(f"unknown scenario {raw!r}: one of {', '.join(SCENARIOS)} "
                             f"(or {', '.join(ALIASES)})")
        if name not in names:
            names.append(name)
    return [n for n in SCENARIOS if n in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI (< 60 s)")
    parser.add_argument("--only", help=f"comma-separated scenarios: {', '.join(SCENARIOS)}")
    parser.add_argument("--database-url", help="a superuser URL of the server to use")
    args = parser.parse_args(argv)
    names = chosen(args.only)
    sizes = QUICK if args.quick else FULL
    report = Report(quick=args.quick)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="ledgerflow-bench-"))
    try:
        with server(args.database_url) as (url, source):
            print(f"ledgerflow benchmarks ({'quick' if args.quick else 'full'}) on {source}; "
                  f"{os.cpu_count()} CPUs; scenarios: {', '.join(names)}", flush=True)
            dbs = Databases(url)
            try:
                dbs.prepare()
                ctx = Context(sizes, args.quick, dbs, report, tmp, tmp / "dags")
                write_dags(ctx.dags)
                for name in names:
                    print(f"[{name}]", flush=True)
                    dbs.settle()
                    t0 = time.perf_counter()
                    try:
                        SCENARIOS[name](ctx)
                    except NotAvailable as exc:
                        report.not_available[name] = str(exc)
                        print(f"  not available: {exc}", flush=True)
                    except Exception:
                        report.errors[name] = traceback.format_exc()
                        print(traceback.format_exc(), file=sys.stderr, flush=True)
                    print(f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
                    # a finished scenario's database would keep the server busy (autovacuum)
                    dbs.drop_all(keep=(dbs.template, *([dbname(ctx.backfilled)]
                                                       if ctx.backfilled else [])))
            finally:
                dbs.drop_all()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(report)
    print(summary_line(report, time.perf_counter() - started))
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
