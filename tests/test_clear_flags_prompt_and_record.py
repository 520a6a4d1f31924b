"""`tasks clear`: the prompt, --dry-run, --reason and --actor, and the run states a clear keeps, each test
failing if the flag were ignored (scenarios 57, 60, 61 adapted)."""

from __future__ import annotations

import pytest
from clear_flags_support import chain as chain  # a fixture, named here so pytest finds it
from clear_flags_support import listed
from clear_support import clear, run_events
from dagfiles import backfill, cli, event_count, query, run_map, states

pytestmark = pytest.mark.usefixtures("sequential_executor")


# -- scenario 60: the prompt ------------------------------------------------------------------------

def test_the_prompt_asks_again_until_it_gets_y_yes_n_or_no(chain):
    result = clear(chain, "chain", "-s", "2024-01-10", "-e", "2024-01-10", "-t", "^a$", input="maybe\nYES\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Please respond with y/yes or n/no.") == 1
    assert states("chain")[("a", "2024-01-10")] is None


def test_end_of_input_at_the_prompt_writes_nothing_and_exits_1(chain, database_url):
    before = event_count(database_url)
    result = clear(chain, "chain", "-t", "^a$", input="")
    assert result.exit_code == 1
    assert event_count(database_url) == before


def test_a_long_listing_is_grouped_by_run(chain):
    result = clear(chain, "chain", "--dry-run")
    assert "9 task instance(s)" in result.output  # short: one line per task instance
    assert len(listed(result.output)) == 9
    dags = chain
    backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-20")
    result = clear(dags, "chain", "--dry-run")
    lines = [line for line in result.output.splitlines() if line.startswith("chain backfill__")]
    assert len(lines) == 20 and not listed(result.output)
    assert lines[0] == ("chain backfill__2024-01-01T00:00:00+00:00 [success]: "
                        "a [success], b [success], c [success]")


# -- --dry-run, --reason, --actor, scenario 61 --------------------------------------------------------

def test_dry_run_lists_and_writes_nothing(chain, database_url):
    before = event_count(database_url)
    result = clear(chain, "chain", "-t", "^a$", "--dry-run")
    assert result.exit_code == 0
    assert len(listed(result.output)) == 3
    assert "Dry run: nothing was cleared." in result.output
    assert event_count(database_url) == before


def test_actor_and_reason_are_recorded_on_every_event_and_the_operation(chain, database_url):
    result = clear(chain, "chain", "-t", "^a$", "-y", "--actor", "alice", "--reason", "bad vendor file")
    assert result.exit_code == 0, result.output
    cleared = run_events(database_url, "Cleared")
    assert {(e["actor"], e["reason"], e["operation"]) for e in cleared} == {
        ("alice", "bad vendor file", "tasks clear")}
    ops = query(database_url, "SELECT name, actor, reason, arguments, outcome, summary FROM operation "
                              "WHERE name = 'tasks clear'")
    assert len(ops) == 1
    assert ops[0]["actor"] == "alice" and ops[0]["reason"] == "bad vendor file"
    assert ops[0]["arguments"]["task_regex"] == "^a$" and ops[0]["arguments"]["yes"] is True
    assert ops[0]["outcome"] == "success" and ops[0]["summary"]["task_instances"] == 3
    audit = query(database_url, "SELECT task_id, from_state, to_state, actor, reason FROM audit_entry "
                                "WHERE event = 'Cleared' AND task_id IS NOT NULL")
    assert {(r["task_id"], r["from_state"], r["to_state"], r["actor"], r["reason"]) for r in audit} == {
        ("a", "success", None, "alice", "bad vendor file")}


def test_a_declined_clear_records_no_operation(chain, database_url):
    clear(chain, "chain", input="n\n")
    assert query(database_url, "SELECT count(*) AS n FROM ledgerflow_events WHERE topic LIKE '%%Operation%%' "
                               "AND convert_from(state, 'UTF8') LIKE '%%tasks clear%%'")[0]["n"] == 0


def test_a_required_reason_is_enforced(chain, monkeypatch, database_url):
    monkeypatch.setenv("LEDGERFLOW_REQUIRE_REASON", "1")
    before = event_count(database_url)
    assert clear(chain, "chain", "-y").exit_code == 2
    assert event_count(database_url) == before
    assert clear(chain, "chain", "-y", "--reason", "rerun after fix").exit_code == 0


# -- scenario 57: queued or running runs keep their state --------------------------------------------

def test_clearing_a_queued_run_leaves_its_state_alone(chain, database_url):
    clear(chain, "chain", "-s", "2024-01-10", "-e", "2024-01-10", "-t", "^c$", "-y")
    assert run_map("chain")["2024-01-10"]["state"] == "queued"
    result = clear(chain, "chain", "-s", "2024-01-10", "-e", "2024-01-10", "-t", "^a$", "-y")
    assert result.exit_code == 0, result.output
    assert run_map("chain")["2024-01-10"]["state"] == "queued"
    last = run_events(database_url, "Cleared")[-1]
    assert (last["run_from"], last["run_to"]) == ("queued", "queued")
    numbers = query(database_url, "SELECT clear_number FROM dag_run WHERE logical_date = '2024-01-10'")
    assert numbers[0]["clear_number"] == 1


def test_the_states_before_a_clear_stay_readable_as_of_then(chain, database_url):
    import time
    from datetime import UTC, datetime

    time.sleep(0.01)
    before = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    clear(chain, "chain", "-s", "2024-01-10", "-e", "2024-01-10", "-t", "^a$", "-y")
    result = cli("tasks", "states", "chain", "-s", "2024-01-10", "-e", "2024-01-10", "-t", "^a$",
                 "--as-of", before, "-o", "json")
    assert result.exit_code == 0, result.output
    assert '"state": "success"' in result.stdout
    assert states("chain")[("a", "2024-01-10")] is None
