"""The change dialog by keyboard alone, with every control labelled; mark success/failed through the same dialog."""

from __future__ import annotations

import re

from web_support import RUN2, cell

TI = f"/dags/pychain/runs/{RUN2}/tasks/b"
LABELS = {"past": "Past", "future": "Future", "upstream": "Upstream", "downstream": "Downstream",
          "only-failed": "Only failed", "only-running": "Only running"}


def _focused(page) -> str | None:
    return page.evaluate("document.activeElement && document.activeElement.getAttribute('data-testid')")


def _tab_to(page, testid: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page) == testid:
            return
    raise AssertionError(f"{testid} is not reachable with Tab")


def test_every_control_of_the_clear_dialog_is_labelled(ui):
    page = ui.page("operator")
    page.goto(f"{ui.url}{TI}")
    page.get_by_test_id("clear-button").click()
    dialog = page.get_by_role("dialog", name="Clear task instances")
    assert dialog.is_visible()
    for option, label in LABELS.items():
        assert dialog.get_by_label(label, exact=True).get_attribute("data-testid") == f"clear-option-{option}"
    assert dialog.get_by_label("Reason (required)").get_attribute("data-testid") == "reason"
    assert dialog.get_by_role("button", name="Confirm").get_attribute("data-testid") == "confirm"
    assert dialog.get_by_role("button", name="Preview").is_visible()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()


def test_a_clear_can_be_done_with_the_keyboard_alone(ui):
    page = ui.page("operator")
    page.goto(f"{ui.url}{TI}")
    _tab_to(page, "clear-button")
    page.keyboard.press("Enter")
    assert page.get_by_role("dialog").is_visible()
    assert _focused(page) == "clear-option-past"  # focus moves into the dialog
    _tab_to(page, "clear-option-downstream", limit=5)
    page.keyboard.press("Space")
    _tab_to(page, "preview-button", limit=5)
    page.keyboard.press("Enter")
    page.get_by_test_id("preview-row").first.wait_for()
    assert page.get_by_test_id("preview-row").count() == 2
    assert _focused(page) == "reason"  # after the preview, straight to the reason
    page.keyboard.type("keyboard only")
    _tab_to(page, "confirm", limit=3)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/dags/pychain/grid.*"))
    assert cell(page, RUN2, "b").get_attribute("data-state") == "none"
    assert cell(page, RUN2, "c").get_attribute("data-state") == "none"


def test_mark_success_previews_then_changes_the_state_with_its_reason(ui):
    page = ui.page("operator")
    page.goto(f"{ui.url}{TI}")
    page.get_by_test_id("mark-success-button").click()
    dialog = page.get_by_role("dialog", name="Mark success")
    assert not dialog.get_by_test_id("clear-option-only-failed").is_visible()  # a clear's option only
    dialog.get_by_test_id("preview-button").click()
    row = dialog.get_by_test_id("preview-row")
    row.first.wait_for()
    assert row.count() == 1 and "failed" in row.inner_text() and "success" in row.inner_text()
    assert dialog.get_by_test_id("confirm").is_disabled()
    dialog.get_by_test_id("reason").fill("checked by hand")
    dialog.get_by_test_id("confirm").click()
    page.wait_for_url(re.compile(r".*/dags/pychain/grid.*"))
    assert cell(page, RUN2, "b").get_attribute("data-state") == "success"
    auditor = ui.page("auditor")  # the history is an audit read, as in the API
    auditor.goto(f"{ui.url}{TI}")
    last = auditor.get_by_test_id("history-row").last.inner_text()
    assert "operator" in last and "checked by hand" in last and "tasks mark" in last


RUN1, RUN3 = RUN2.replace("01-02", "01-01"), RUN2.replace("01-02", "01-03")
CLEAR_CASES = [  # (options ticked on b of 2024-01-02, the task instances the preview lists)
    ((), {(RUN2, "b")}),
    (("upstream",), {(RUN2, "a"), (RUN2, "b")}),
    (("downstream",), {(RUN2, "b"), (RUN2, "c")}),
    (("past",), {(RUN1, "b"), (RUN2, "b")}),
    (("future",), {(RUN2, "b"), (RUN3, "b")}),
    (("upstream", "downstream", "only-failed"), {(RUN2, "b"), (RUN2, "c")}),
    (("only-running",), set()),
]


def _previewed(dialog, ticked) -> set[tuple[str, str]]:
    for box in dialog.locator("input[type=checkbox]:visible").all():
        box.set_checked(box.get_attribute("data-testid").removeprefix("clear-option-") in ticked)
    dialog.get_by_test_id("preview-button").click()
    dialog.locator("[data-testid=preview] caption").wait_for()
    rows = dialog.get_by_test_id("preview-row")
    return {(rows.nth(i).get_attribute("data-run-id"), rows.nth(i).get_attribute("data-task-id"))
            for i in range(rows.count())}


def test_each_option_of_the_dialog_changes_what_the_preview_lists(ui):
    page = ui.page("operator")
    page.goto(f"{ui.url}{TI}")
    page.get_by_test_id("clear-button").click()
    dialog = page.get_by_role("dialog")
    for ticked, expected in CLEAR_CASES:
        assert _previewed(dialog, ticked) == expected, ticked
    page.keyboard.press("Escape")
    page.goto(f"{ui.url}/dags/pychain/runs/{RUN2}/tasks/c")
    page.get_by_test_id("mark-success-button").click()
    assert _previewed(dialog, ("upstream",)) == {(RUN2, "b"), (RUN2, "c")}  # a succeeded already
    assert _previewed(dialog, ()) == {(RUN2, "c")}
