"""The web UI's other pages in a real browser: the as-of grid, the pause toggle, backfills, the run report."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from seeded_runs import seed_run
from web_support import RUN2, cell

from ledgerflow.engine.application.commands import ClearTaskInstances
from ledgerflow.engine.application.service import Ledgerflow


def test_the_as_of_picker_shows_the_grid_as_it_was_before_a_clear(ui):
    time.sleep(1.1)
    before = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    time.sleep(1.1)
    with Ledgerflow() as svc:
        svc.clear(svc.plan_clear(ClearTaskInstances(dag_id="pychain", start="2024-01-02", end="2024-01-02",
                                                    task_regex="^b$", yes=True, reason="as-of test", actor="admin")))
    page = ui.page("auditor")
    page.goto(f"{ui.url}/dags/pychain/grid")
    assert cell(page, RUN2, "b").get_attribute("data-state") == "none"
    page.get_by_label("As of (UTC)").fill(before)
    page.get_by_role("button", name="Show").click()
    page.get_by_test_id("as-of-banner").wait_for()
    assert cell(page, RUN2, "b").get_attribute("data-state") == "failed"
    page.get_by_role("link", name="Audit").click()  # the audit page's picker leads to the same grid
    page.get_by_label("Grid of").select_option("pychain")
    page.get_by_test_id("audit-as-of").fill(before)
    page.get_by_role("button", name="Show the grid as it was").click()
    page.get_by_test_id("as-of-banner").wait_for()
    assert cell(page, RUN2, "b").get_attribute("data-state") == "failed"
    page.goto(f"{ui.url}/audit")
    assert page.get_by_test_id("verify-status").inner_text().startswith("Hash chain intact")


def test_the_pause_toggle_records_an_event_with_the_user_and_reason(ui):
    page = ui.page("operator")
    row = page.locator('[data-testid="dag-row"][data-dag-id="pychain"]')
    toggle = row.get_by_test_id("pause-toggle")
    assert toggle.get_attribute("aria-checked") == "false"
    row.get_by_label("Reason to pause pychain").fill("upstream outage")
    toggle.click()
    page.wait_for_load_state()
    assert row.get_by_test_id("pause-toggle").get_attribute("aria-checked") == "true"
    row.get_by_label("Reason to unpause pychain").fill("outage over")
    row.get_by_test_id("pause-toggle").click()
    page.wait_for_load_state()
    assert row.get_by_test_id("pause-toggle").get_attribute("aria-checked") == "false"
    with Ledgerflow() as svc:
        entries = [(e["operation"], e["actor"], e["reason"]) for e in svc.audit_log(dag_id="pychain")
                   if e["operation"] in ("dags pause", "dags unpause")]
    assert list(dict.fromkeys(entries)) == [("dags pause", "operator", "upstream outage"),
                                            ("dags unpause", "operator", "outage over")]
    viewer = ui.page("viewer")
    assert viewer.get_by_test_id("pause-toggle").count() == 0


def test_a_backfill_is_created_after_its_dry_run_preview_then_cancelled(ui):
    with Ledgerflow() as svc:
        earlier = len(svc.backfills())  # the fixture's own foreground backfill
    page = ui.page("operator")
    page.get_by_role("link", name="Backfills").click()
    page.get_by_label("DAG").select_option("pychain")
    page.get_by_label("From (logical date)").fill("2024-01-03")
    page.get_by_label("To (inclusive)").fill("2024-01-05")
    confirm = page.get_by_test_id("confirm")
    assert confirm.is_disabled()
    page.get_by_test_id("preview-button").click()
    rows = page.get_by_test_id("preview-row")
    rows.first.wait_for()
    decisions = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert len(decisions) == 3 and "skipped: already succeeded" in decisions[0] and "created" in decisions[2]
    with Ledgerflow() as svc:
        assert len(svc.backfills()) == earlier  # the preview wrote nothing
    page.get_by_label("Reason").fill("January reload")
    confirm.click()
    page.wait_for_url(re.compile(r".*/backfills/\d+$"))
    assert page.get_by_test_id("backfill-state").inner_text() == "running"
    assert page.get_by_test_id("backfill-date").count() == 3
    page.get_by_test_id("backfill-pause").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("backfill-state").inner_text() == "paused"
    page.get_by_test_id("backfill-unpause").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("backfill-state").inner_text() == "running"
    page.get_by_label("Reason").fill("wrong range")
    page.get_by_test_id("backfill-cancel").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("backfill-state").inner_text() == "cancelled"
    assert "skipped: cancelled" in page.get_by_test_id("backfill-date").last.inner_text()
    page.get_by_role("link", name="Backfills").first.click()
    assert page.get_by_test_id("backfill-row").count() == earlier + 1
    with Ledgerflow() as svc:
        made = svc.backfills()[-1]
    assert made["created_by"] == "operator"


def test_the_run_report_prints_every_change_of_the_run(ui):
    page = ui.page("auditor")
    page.goto(f"{ui.url}/dags/pychain/runs/{RUN2}/report")
    assert page.get_by_test_id("verify-status").inner_text().startswith("Hash chain intact")
    assert page.get_by_test_id("audit-row").count() >= 6
    page.emulate_media(media="print")
    assert not page.get_by_role("link", name="Audit").is_visible()  # no navigation on paper
    assert len(page.pdf()) > 1000


def test_the_task_instance_panel_shows_its_history_rendered_fields_and_each_try_s_log(ui):
    page = ui.page("auditor")
    page.goto(f"{ui.url}/dags/pychain/runs/{RUN2}/tasks/b")
    rows = page.get_by_test_id("history-row")
    assert rows.count() >= 2
    tried = rows.last.inner_text()
    assert "running" in tried and "failed" in tried and "dags backfill" in tried
    assert rows.last.locator("code").inner_text()  # the DAG code's fingerprint where code ran
    rendered = page.locator("h2:has-text('Rendered template fields') + *").inner_text()
    assert "op_kwargs" in rendered
    log = page.locator("details").first
    assert "Try 1" in log.locator("summary").inner_text()
    assert "b fails on 2024-01-02" in log.locator("pre").inner_text()


def test_the_audit_page_s_older_link_keeps_the_filters_as_they_were_typed(ui):
    for day in range(40):  # 40 runs of 3 task instances: more than a page of entries
        seed_run(ui.dags, "pychain", f"2023-10-{day % 30 + 1:02d}T{day // 30:02d}:00:00", run_type="backfill",
                 ti_states={"a": "success", "b": "success", "c": "success"})
    since = "2000-01-01T00:00:00+00:00"
    page = ui.page("auditor")
    page.goto(f"{ui.url}/audit?" + urlencode({"dag_id": "pychain", "since": since}))
    assert page.get_by_test_id("audit-row").count() == 100
    page.get_by_role("link", name="Older").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("filter-since").input_value() == since
    assert page.get_by_test_id("audit-row").count() > 0


def test_the_audit_page_filters_by_dag_run_task_actor_operation_and_time(ui):
    with Ledgerflow() as svc:
        svc.clear(svc.plan_clear(ClearTaskInstances(dag_id="pychain", start="2024-01-02", end="2024-01-02",
                                                    task_regex="^b$", yes=True, reason="filter me", actor="admin")))
        cleared = [e for e in svc.audit_log(dag_id="pychain") if e["reason"] == "filter me"]
    page = ui.page("auditor")
    page.goto(f"{ui.url}/audit")
    everything = page.get_by_test_id("audit-row").count()

    def shown(**filters: str) -> list[str]:
        page.get_by_role("link", name="Reset").click()
        for name, value in filters.items():
            page.get_by_test_id(f"filter-{name}").fill(value)
        page.get_by_role("button", name="Filter").click()
        page.wait_for_load_state()
        return page.get_by_test_id("audit-row").all_inner_texts()

    assert len(shown(actor="admin")) == len(cleared) < everything
    assert all("filter me" in r for r in shown(actor="admin", task_id="b"))
    assert len(shown(dag_id="pychain", run_id=RUN2, task_id="b")) > len(shown(actor="admin", task_id="b"))
    assert len(shown(operation_id=cleared[0]["operation_id"])) == len(cleared)
    assert shown(dag_id="pychain", since="2999-01-01T00:00:00") == []
    assert len(shown(dag_id="pychain", until="2999-01-01T00:00:00")) == len(shown(dag_id="pychain"))
    assert shown(dag_id="nothing") == []


def test_the_audit_page_says_where_a_rewritten_event_breaks_the_chain(ui, database_url):
    from audit_support import sql

    sql(database_url, "SET session_replication_role = replica",
        "UPDATE ledgerflow_events SET state = convert_to(replace(convert_from(state, 'UTF8'), 'operator', "
        "'mallory'), 'UTF8') WHERE notification_id = 5")  # the Ended of the operator's creation
    page = ui.page("auditor")
    page.goto(f"{ui.url}/audit")
    assert page.get_by_test_id("verify-status").inner_text().startswith("Hash chain BROKEN at position")
