"""The web UI in a real browser: the API server (with its UI at `/`) over the test's database, one user per
role, a pychain DAG whose backfill left failed and upstream_failed task instances, and the system's Chromium
driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_support import PASSWORD, ROLES, add_users, free_port, serving
from cli_runner import backfill
from dag_folders import Dags, make_dags

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@dataclass
class Ui:
    url: str
    dags: Dags
    browser: Any

    def page(self, as_user: str | None = "admin") -> Any:
        """A fresh browser context (its own cookies), logged in as the user unless None."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.set_default_timeout(15_000)
        if as_user is not None:
            log_in(page, self.url, as_user)
        return page


def log_in(page: Any, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{url}/")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        launched = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def start_ui(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *dag_names: str) -> Dags:
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", "sequential")
    dags = make_dags(tmp_path, *dag_names)
    monkeypatch.setenv("LEDGERFLOW_DAGS_FOLDER", str(dags.folder))
    add_users(*ROLES)
    return dags


@pytest.fixture
def ui(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, browser: Any) -> Iterator[Ui]:
    """pychain backfilled over 2024-01-01..03 with b failing on 01-02 (so c is upstream_failed there)."""
    dags = start_ui(tmp_path, monkeypatch, "pychain")
    dags.fail("b", "2024-01-02")
    backfill(dags, "pychain", "-s", "2024-01-01", "-e", "2024-01-03", "-y", "--continue-on-failures")
    port = free_port()
    with serving(port):
        yield Ui(f"http://127.0.0.1:{port}", dags, browser)


def cell(page: Any, run_id: str, task_id: str) -> Any:
    return page.locator(f'[data-testid="ti-cell"][data-run-id="{run_id}"][data-task-id="{task_id}"]')


RUN2 = "backfill__2024-01-02T00:00:00+00:00"
