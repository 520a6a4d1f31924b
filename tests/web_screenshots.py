"""Screenshots of the web UI for the README (docs/web-*.png), over a throwaway database of a small demo.

    python tests/web_screenshots.py [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

A demo DAG is backfilled over two weeks with a few failures, one failure is cleared and one
marked with their reasons, a backfill object is recorded, and the pages are captured in the
system's Chromium. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from api_support import free_port, serving  # noqa: E402
from web_support import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

DOCS = HERE.parent / "docs"
DAG_FILE = '''
from datetime import datetime
from pathlib import Path

from ledgerflow import DAG, BashTask, PythonTask

FAIL = Path({fail!r})


def check(ds, task_id):
    if (FAIL / f"{{task_id}}__{{ds}}").exists():
        raise RuntimeError(f"{{task_id}}: the source file for {{ds}} is missing")
    return {{"rows": 1200 + int(ds[-2:]) * 7}}


with DAG("orders_daily", schedule="@daily", start_date=datetime(2024, 3, 1), catchup=True,
         description="Orders from the shop database into the warehouse") as dag:
    extract = BashTask("extract", bash_command="echo extracting orders for {{{{ ds }}}}")
    validate = PythonTask("validate", check)
    load = PythonTask("load", check)
    aggregate = PythonTask("aggregate", check)
    report = BashTask("report", bash_command="echo report {{{{ ds_nodash }}}} ready")
    extract >> validate >> load >> aggregate >> report

with DAG("customers_hourly", schedule="@hourly", start_date=datetime(2024, 3, 1), catchup=True,
         description="Customer changes, every hour") as hourly:
    PythonTask("sync", check) >> PythonTask("dedupe", check)
'''


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "ledgerflow.cli", *args], env=env, check=False, capture_output=True)


def seed(env: dict[str, str], tmp: Path) -> None:
    from ledgerflow.engine.application.commands import ClearTaskInstances, CreateBackfill, CreateUser
    from ledgerflow.engine.application.commands import MarkTaskInstances as Mark
    from ledgerflow.engine.application.service import Ledgerflow

    for task, ds in (("validate", "2024-03-05"), ("load", "2024-03-09"), ("validate", "2024-03-12")):
        (tmp / "fail" / f"{task}__{ds}").touch()
    env = {**env, "LEDGERFLOW_ACTOR": "scheduler"}
    cli(env, "dags", "backfill", "orders_daily", "-s", "2024-03-01", "-e", "2024-03-14", "-y",
        "--continue-on-failures", "--reason", "initial load of March")
    cli(env, "dags", "backfill", "customers_hourly", "-s", "2024-03-01T00:00", "-e", "2024-03-01T05:00", "-y")
    (tmp / "fail" / "validate__2024-03-05").unlink()
    with Ledgerflow() as svc:
        svc.create_user(CreateUser(username="alice", role="admin", password="demo password", reason="demo"))
        svc.clear(svc.plan_clear(ClearTaskInstances(
            dag_id="orders_daily", start="2024-03-05", end="2024-03-05", task_regex="^validate$", downstream=True,
            yes=True, reason="source file re-delivered (ticket OPS-142)", actor="alice")))
        svc.mark(svc.plan_mark(Mark(dag_id="orders_daily", run_id="backfill__2024-03-12T00:00:00+00:00",
                                    task_id="validate", state="success", reason="validated by hand, OPS-150",
                                    actor="alice")))
        svc.create_backfill(CreateBackfill(dag_id="orders_daily", from_date="2024-03-15", to_date="2024-03-21",
                                           reason="second half of March", actor="alice"))


def shoot(url: str) -> None:
    from playwright.sync_api import sync_playwright

    run = "backfill__2024-03-09T00:00:00+00:00"
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 800}, device_scale_factor=1)
        page.goto(f"{url}/login")
        page.get_by_test_id("login-username").fill("alice")
        page.get_by_test_id("login-password").fill("demo password")
        page.get_by_test_id("login-submit").click()
        page.wait_for_url(f"{url}/")
        page.screenshot(path=DOCS / "web-dags.png")
        page.goto(f"{url}/dags/orders_daily/grid")
        page.screenshot(path=DOCS / "web-grid.png")
        page.goto(f"{url}/dags/orders_daily/runs/backfill__2024-03-05T00:00:00+00:00/tasks/validate")
        page.screenshot(path=DOCS / "web-task-history.png", full_page=True)
        page.goto(f"{url}/dags/orders_daily/runs/{run}/tasks/load")
        page.get_by_test_id("clear-button").click()
        page.get_by_test_id("clear-option-downstream").check()
        page.get_by_test_id("preview-button").click()
        page.get_by_test_id("preview-row").first.wait_for()
        page.get_by_test_id("reason").fill("warehouse load fixed (OPS-147)")
        page.screenshot(path=DOCS / "web-clear-dialog.png")
        page.goto(f"{url}/audit")
        page.get_by_test_id("verify-status").wait_for()
        page.screenshot(path=DOCS / "web-audit.png")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get(
        "LEDGERFLOW_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    admin_url = parser.parse_args().database_url
    name = f"lf_screens_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(**{**conninfo_to_dict(admin_url), "dbname": name})
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            (tmp / "dags").mkdir()
            (tmp / "fail").mkdir()
            (tmp / "dags" / "demo.py").write_text(DAG_FILE.format(fail=str(tmp / "fail")))
            env = {"LEDGERFLOW_DATABASE_URL": url, "LEDGERFLOW_HOME": str(tmp / "home"),
                   "LEDGERFLOW_DAGS_FOLDER": str(tmp / "dags"), "LEDGERFLOW_EXECUTOR": "sequential"}
            os.environ.update(env)
            seed({**os.environ, **env}, tmp)
            port = free_port()
            with serving(port):
                shoot(f"http://127.0.0.1:{port}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
