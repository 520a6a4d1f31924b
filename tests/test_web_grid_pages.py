"""The grid pages through many runs: 100 runs a page, newest first, Older and Newer links, as of an instant too."""

from __future__ import annotations

from datetime import date, timedelta

from seeded_runs import seed_run

from ledgerflow.engine.application.service import Ledgerflow


def test_the_grid_shows_100_runs_a_page_newest_first_with_links_to_older_and_newer(ui):
    first = date(2023, 9, 1)
    for day in range(120):  # with the fixture's 3 runs of January 2024: 123 runs
        seed_run(ui.dags, "pychain", (first + timedelta(days=day)).isoformat(), run_type="backfill",
                 ti_states={"a": "success", "b": "success", "c": "skipped"})
    with Ledgerflow() as svc:
        svc.run_page("pychain", limit=1)  # the views caught up
    page = ui.page("viewer")
    page.goto(f"{ui.url}/dags/pychain/grid")
    column = page.locator('[data-testid="ti-cell"][data-task-id="c"]')
    assert column.count() == 100
    assert column.first.get_attribute("data-run-id").startswith("backfill__2024-01-03")
    assert column.last.get_attribute("data-run-id")[-25:-15] == "2023-09-24"  # the 100th newest
    assert column.last.get_attribute("data-state") == "skipped"
    page.get_by_role("link", name="Older").click()
    assert column.count() == 23
    assert column.last.get_attribute("data-run-id")[-25:-15] == "2023-09-01"
    assert page.get_by_role("link", name="Older").count() == 0
    page.get_by_role("link", name="Newer").click()
    assert column.count() == 100
