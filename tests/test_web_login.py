"""Logging in and out of the web UI with the API's users; sessions in HttpOnly, SameSite cookies."""

from __future__ import annotations

from web_support import RUN2, cell, log_in


def test_login_shows_the_dag_list_with_links_to_the_grids_and_logout_ends_the_session(ui):
    page = ui.page(as_user=None)
    page.goto(f"{ui.url}/")
    assert page.url == f"{ui.url}/login"  # no session: the login form
    log_in(page, ui.url, "viewer")
    link = page.get_by_role("link", name="pychain", exact=True)
    assert link.get_attribute("href") == "/dags/pychain/grid"
    assert page.get_by_role("link", name="Audit").count() == 1
    row = page.locator('[data-testid="dag-row"][data-dag-id="pychain"]').inner_text()
    assert "@daily" in row and "success 2024-01-03 00:00" in " ".join(row.split())  # schedule, last run
    counts = page.locator('[data-testid="dag-row"][data-dag-id="pychain"] td.num').all_inner_texts()
    assert counts == ["3", "0", "0", "2", "1"]  # tasks; queued, running, success, failed runs
    cookie = next(c for c in page.context.cookies() if c["name"] == "ledgerflow_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{ui.url}/login")
    page.goto(f"{ui.url}/dags/pychain/grid")
    assert page.url == f"{ui.url}/login"


def test_a_wrong_password_is_refused_on_the_login_page(ui):
    page = ui.page(as_user=None)
    page.goto(f"{ui.url}/login")
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill("wrong")
    page.get_by_test_id("login-submit").click()
    assert page.get_by_role("alert").inner_text().startswith("Wrong username or password")
    assert not [c for c in page.context.cookies() if c["name"] == "ledgerflow_session"]


def test_the_grid_shows_the_backfill_s_states(ui):
    page = ui.page("viewer")
    page.get_by_role("link", name="pychain", exact=True).click()
    assert cell(page, RUN2, "a").get_attribute("data-state") == "success"
    assert cell(page, RUN2, "b").get_attribute("data-state") == "failed"
    assert cell(page, RUN2, "c").get_attribute("data-state") == "upstream_failed"
    runs = page.locator('[data-testid="ti-cell"][data-task-id="a"]')
    assert [runs.nth(i).get_attribute("data-run-id")[10:20] for i in range(3)] == [
        "2024-01-03", "2024-01-02", "2024-01-01"]  # newest first
    assert page.get_by_role("list", name="Legend").inner_text().count("\n") >= 5
