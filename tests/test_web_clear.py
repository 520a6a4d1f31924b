"""Clearing through the web UI's dialog: a dry-run preview first, a required reason, the new states at once,
and the change on the audit page with its user and reason; a viewer has no such control."""

from __future__ import annotations

import re

from web_support import RUN2, cell

TI = f"/dags/pychain/runs/{RUN2}/tasks/b"


def _open_clear(page, url):
    page.goto(f"{url}{TI}")
    page.get_by_test_id("clear-button").click()
    return page.locator("#change-dialog")


def test_a_clear_with_preview_and_reason_changes_the_states_and_is_on_the_audit_page(ui):
    page = ui.page("admin")
    dialog = _open_clear(page, ui.url)
    dialog.get_by_test_id("clear-option-downstream").check()
    dialog.get_by_test_id("preview-button").click()
    rows = dialog.get_by_test_id("preview-row")
    rows.first.wait_for()
    assert sorted(rows.nth(i).get_attribute("data-task-id") for i in range(rows.count())) == ["b", "c"]
    page.goto(f"{ui.url}/dags/pychain/grid")  # the preview wrote nothing
    assert cell(page, RUN2, "b").get_attribute("data-state") == "failed"
    dialog = _open_clear(page, ui.url)
    dialog.get_by_test_id("clear-option-downstream").check()
    dialog.get_by_test_id("preview-button").click()
    dialog.get_by_test_id("preview-row").first.wait_for()
    dialog.get_by_test_id("reason").fill("rerun after the upstream fix")
    dialog.get_by_test_id("confirm").click()
    page.wait_for_url(re.compile(r".*/dags/pychain/grid.*"))
    assert "2 task instances changed" in page.get_by_role("status").inner_text()
    assert cell(page, RUN2, "b").get_attribute("data-state") == "none"
    assert cell(page, RUN2, "c").get_attribute("data-state") == "none"
    assert cell(page, RUN2, "a").get_attribute("data-state") == "success"
    page.get_by_role("link", name="Audit").click()
    cleared = page.get_by_test_id("audit-row").filter(has_text="rerun after the upstream fix")
    texts = [cleared.nth(i).inner_text() for i in range(cleared.count())]
    assert all("admin" in t and "tasks clear" in t for t in texts)
    assert {t for t in ("b", "c") if cleared.get_by_role("link", name=t, exact=True).count()} == {"b", "c"}


def test_confirm_stays_impossible_without_a_reason_and_the_server_refuses_one_anyway(ui):
    page = ui.page("operator")
    dialog = _open_clear(page, ui.url)
    confirm = dialog.get_by_test_id("confirm")
    assert confirm.is_disabled()  # before the preview
    dialog.get_by_test_id("preview-button").click()
    dialog.get_by_test_id("preview-row").first.wait_for()
    assert confirm.is_disabled()  # previewed, no reason
    dialog.get_by_test_id("reason").fill("   ")
    assert confirm.is_disabled()  # blank is no reason
    dialog.get_by_test_id("reason").fill("why")
    assert confirm.is_enabled()
    dialog.get_by_test_id("clear-option-past").check()
    assert confirm.is_disabled()  # other options: preview again
    csrf = page.locator("#change-dialog input[name=csrf]").input_value()
    answer = page.request.post(f"{ui.url}{TI}/clear", form={"csrf": csrf, "reason": " "})
    assert answer.status == 400 and "reason is required" in answer.text()
    page.goto(f"{ui.url}/dags/pychain/grid")
    assert cell(page, RUN2, "b").get_attribute("data-state") == "failed"


def test_a_viewer_has_no_clear_control_and_is_refused_with_403(ui):
    page = ui.page("viewer")
    page.goto(f"{ui.url}{TI}")
    assert page.get_by_test_id("ti-state").inner_text() == "failed"
    assert page.get_by_test_id("clear-button").count() == 0
    assert page.get_by_test_id("confirm").count() == 0
    csrf = page.locator("form.who input[name=csrf]").input_value()
    answer = page.request.post(f"{ui.url}{TI}/clear", form={"csrf": csrf, "reason": "viewer tries"})
    assert answer.status == 403
    preview = page.request.post(f"{ui.url}{TI}/clear/preview", form={"csrf": csrf})
    assert preview.status == 403
    page.goto(f"{ui.url}/dags/pychain/grid")
    assert cell(page, RUN2, "b").get_attribute("data-state") == "failed"


def test_a_mark_refuses_the_options_only_a_clear_has_and_changes_nothing(ui):
    page = ui.page("operator")
    page.goto(f"{ui.url}{TI}")
    csrf = page.locator("#change-dialog input[name=csrf]").input_value()
    for option in ("only_failed", "only_running"):
        answer = page.request.post(f"{ui.url}{TI}/mark", form={"csrf": csrf, "state": "success", "reason": "why",
                                                             option: "true"})
        assert answer.status == 400 and "not of a mark" in answer.text()
    page.goto(f"{ui.url}/dags/pychain/grid")
    assert cell(page, RUN2, "b").get_attribute("data-state") == "failed"


def test_a_change_without_the_session_s_csrf_token_is_refused(ui):
    page = ui.page("admin")
    answer = page.request.post(f"{ui.url}{TI}/clear", form={"csrf": "forged", "reason": "cross-site"})
    assert answer.status == 403 and "CSRF" in answer.text()
    page.goto(f"{ui.url}/dags/pychain/grid")
    assert cell(page, RUN2, "b").get_attribute("data-state") == "failed"
