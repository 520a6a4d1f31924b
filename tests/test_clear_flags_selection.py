"""`tasks clear`: the flags selecting what is cleared (-t, -d, -u, -s, -e, --past, --future, -f, -r, -R, -S),
each test failing if the flag were ignored (scenarios 50-54, 59 adapted)."""

from __future__ import annotations

import pytest
from clear_flags_support import chain as chain  # a fixture, named here so pytest finds it
from clear_flags_support import listed
from clear_support import CHAIN, clear, run_events
from dagfiles import backfill, cli, event_count, make_dags, query, run_map, states, ti_map

pytestmark = pytest.mark.usefixtures("sequential_executor")


# -- scenario 50: nothing in range ---------------------------------------------------------------

def test_nothing_in_range_prints_nothing_to_clear_and_exits_0(chain, database_url):
    before = event_count(database_url)
    result = clear(chain, "chain", "-s", "2023-01-01", "-e", "2023-01-02", "-y")
    assert result.exit_code == 0, result.output
    assert "Nothing to clear." in result.output
    assert event_count(database_url) == before


# -- scenario 51/52: -t, -d, prompt, -y ----------------------------------------------------------

def test_declining_lists_exactly_the_selected_task_instances_writes_nothing_and_exits_1(chain, database_url):
    before = event_count(database_url)
    result = clear(chain, "chain", "-s", "2024-01-10", "-e", "2024-01-11", "-t", "^b$", "-d", input="n\n")
    assert result.exit_code == 1, result.output
    assert sorted(listed(result.output)) == sorted(
        f"<TaskInstance: chain.{t} backfill__2024-01-{d}T00:00:00+00:00 [success]>"
        for t in "bc" for d in ("10", "11")
    )
    assert "Are you sure? [y/n]" in result.output
    assert "Cancelled, nothing was cleared." in result.output
    assert event_count(database_url) == before
    assert set(states("chain").values()) == {"success"}


def test_yes_clears_selected_task_instances_bumps_max_tries_and_queues_finished_runs(chain, database_url):
    result = clear(chain, "chain", "-s", "2024-01-10", "-e", "2024-01-11", "-t", "^b$", "-d", "-y")
    assert result.exit_code == 0, result.output
    assert "Cleared 4 task instance(s) in 2 run(s)" in result.output
    assert "2 run(s) moved to queued" in result.output
    got = ti_map("chain")
    for d in ("2024-01-10", "2024-01-11"):
        assert got[("a", d)]["state"] == "success"
        for t in "bc":
            assert got[(t, d)]["state"] is None
            assert got[(t, d)]["try_number"] == 1
            assert got[(t, d)]["max_tries"] == 1  # try_number + retries
    assert {d: r["state"] for d, r in run_map("chain").items()} == {
        "2024-01-10": "queued", "2024-01-11": "queued", "2024-01-12": "success"}
    numbers = query(database_url, "SELECT logical_date::date::text AS d, clear_number FROM dag_run")
    assert {r["d"]: r["clear_number"] for r in numbers} == {
        "2024-01-10": 1, "2024-01-11": 1, "2024-01-12": 0}
    cleared = run_events(database_url, "Cleared")
    assert len(cleared) == 2 and len({e["operation_id"] for e in cleared}) == 1
    assert {(e["run_from"], e["run_to"]) for e in cleared} == {("success", "queued")}


def test_after_a_clear_it_says_who_runs_the_queued_runs_next(chain):
    result = clear(chain, "chain", "-s", "2024-01-10", "-e", "2024-01-10", "-y")
    assert "1 queued run(s) (1 backfill) will be run by `ledgerflow scheduler`" in result.output


def test_without_downstream_only_the_matching_task_is_cleared(chain):
    result = clear(chain, "chain", "-s", "2024-01-10", "-e", "2024-01-10", "-t", "^b$", "-y")
    assert result.exit_code == 0, result.output
    got = states("chain")
    assert (got[("a", "2024-01-10")], got[("b", "2024-01-10")], got[("c", "2024-01-10")]) == (
        "success", None, "success")


# -- scenario 53: -u and an unanchored -t -----------------------------------------------------------

def test_upstream_adds_every_upstream_task(chain):
    result = clear(chain, "chain", "-s", "2024-01-10", "-e", "2024-01-10", "-t", "^c$", "-u", "--dry-run")
    assert sorted(line.split()[1] for line in listed(result.output)) == ["chain.a", "chain.b", "chain.c"]
    result = clear(chain, "chain", "-s", "2024-01-10", "-e", "2024-01-10", "-t", "^c$", "--dry-run")
    assert [line.split()[1] for line in listed(result.output)] == ["chain.c"]


def test_task_regex_is_an_unanchored_search(chain):
    result = clear(chain, "chain", "-s", "2024-01-10", "-e", "2024-01-10", "-t", "b|c", "--dry-run")
    assert sorted(line.split()[1] for line in listed(result.output)) == ["chain.b", "chain.c"]


def test_a_task_regex_matching_nothing_is_refused_as_in_a_backfill_and_clears_nothing(chain, database_url):
    before = event_count(database_url)
    result = clear(chain, "chain", "-t", "zzz", "-y")
    assert result.exit_code == 2, result.output
    assert "no task of chain matches 'zzz'" in result.output
    assert event_count(database_url) == before


# -- -s / -e / --past / --future ----------------------------------------------------------------------

def test_start_and_end_are_inclusive_bounds_on_the_logical_date(chain):
    clear(chain, "chain", "-s", "2024-01-11", "-e", "2024-01-11", "-t", "^a$", "-y")
    got = states("chain")
    assert [got[("a", d)] for d in ("2024-01-10", "2024-01-11", "2024-01-12")] == ["success", None, "success"]


def test_no_start_means_all_history_and_no_end_means_up_to_now(chain):
    result = clear(chain, "chain", "-t", "^a$", "-y")
    assert result.exit_code == 0, result.output
    assert [v for (t, _), v in states("chain").items() if t == "a"] == [None, None, None]


def test_future_extends_the_clear_to_every_later_run(chain):
    clear(chain, "chain", "-s", "2024-01-11", "-e", "2024-01-11", "-t", "^a$", "--future", "-y")
    got = states("chain")
    assert [got[("a", d)] for d in ("2024-01-10", "2024-01-11", "2024-01-12")] == ["success", None, None]


def test_past_extends_the_clear_to_every_earlier_run(chain):
    clear(chain, "chain", "-s", "2024-01-11", "-e", "2024-01-11", "-t", "^a$", "--past", "-y")
    got = states("chain")
    assert [got[("a", d)] for d in ("2024-01-10", "2024-01-11", "2024-01-12")] == [None, None, "success"]


def test_an_end_before_the_start_is_refused_with_exit_2(chain, database_url):
    before = event_count(database_url)
    result = clear(chain, "chain", "-s", "2024-01-12", "-e", "2024-01-10", "-y")
    assert result.exit_code == 2
    assert event_count(database_url) == before


def test_an_unparseable_date_is_refused_with_exit_2(chain):
    assert clear(chain, "chain", "-s", "notadate", "-y").exit_code == 2


# -- scenario 54: -f, -r and both -------------------------------------------------------------------

@pytest.fixture
def failed(tmp_path):
    """chain on 2024-01-20 with b failing: a success, b failed, c upstream_failed."""
    dags = make_dags(tmp_path, chain=CHAIN)
    dags.fail("b", "2024-01-20")
    backfill(dags, "chain", "-s", "2024-01-20", "-e", "2024-01-21", "--continue-on-failures")
    assert states("chain")[("c", "2024-01-20")] == "upstream_failed"
    return dags


def test_only_failed_clears_failed_and_upstream_failed_only(failed):
    result = clear(failed, "chain", "-f", "-y")
    assert result.exit_code == 0, result.output
    got = states("chain")
    assert got[("a", "2024-01-20")] == "success"
    assert got[("b", "2024-01-20")] is None
    assert got[("c", "2024-01-20")] is None
    assert all(got[(t, "2024-01-21")] == "success" for t in "abc")


def test_only_running_selects_nothing_when_nothing_runs(failed, database_url):
    before = event_count(database_url)
    result = clear(failed, "chain", "-r", "-y")
    assert "Nothing to clear." in result.output
    assert event_count(database_url) == before


def test_only_failed_and_only_running_together_are_the_union(failed):
    result = clear(failed, "chain", "-f", "-r", "--dry-run")
    assert sorted(line.split()[1] for line in listed(result.output)) == ["chain.b", "chain.c"]


# -- -R, -S, unknown DAGs (scenario 59) -------------------------------------------------------------

def test_dag_regex_clears_every_matching_dag(tmp_path):
    dags = make_dags(tmp_path, chain=CHAIN, chain2=CHAIN.replace('"chain"', '"chain2"'),
                     other=CHAIN.replace('"chain"', '"other"'))
    for dag_id in ("chain", "chain2", "other"):
        backfill(dags, dag_id, "-s", "2024-01-10", "-e", "2024-01-10")
    result = clear(dags, "cha", "-R", "-t", "^a$", "-y")
    assert result.exit_code == 0, result.output
    assert states("chain")[("a", "2024-01-10")] is None
    assert states("chain2")[("a", "2024-01-10")] is None
    assert states("other")[("a", "2024-01-10")] == "success"


def test_an_unknown_dag_id_is_refused_with_exit_2(chain):
    result = clear(chain, "nope", "-y")
    assert result.exit_code == 2
    assert "nope" in result.output


def test_a_dag_regex_matching_nothing_is_refused_with_exit_2(chain):
    result = clear(chain, "nope", "-R", "-y")
    assert result.exit_code == 2
    assert "dag_id could not be found with regex: nope" in result.output


def test_subdir_is_where_the_dag_is_found(chain, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEDGERFLOW_DAGS_FOLDER", raising=False)
    (tmp_path / "dags").rename(tmp_path / "elsewhere")
    assert cli("tasks", "clear", "chain", "-y").exit_code == 2
    result = cli("tasks", "clear", "chain", "-S", str(tmp_path / "elsewhere"), "-y")
    assert result.exit_code == 0, result.output
