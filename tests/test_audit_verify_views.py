"""`audit verify` folds the events again and finds every view row edited behind its back."""

from __future__ import annotations

import re

import pytest
from audit_support import sql
from dagfiles import cli
from golden_views import dump, golden_history

from ledgerflow.projections.projector import ViewProjector


@pytest.fixture
def folded(ledger, database_url):
    """The golden history (every kind of event), folded into the views."""
    ledger.recorder.insert_events(golden_history())
    ViewProjector(ledger).catch_up()
    return database_url


def _verify(*args):
    result = cli("audit", "verify", *args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _failed(result) -> list[str]:
    """The discrepancy lines after the views' FAILED line."""
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    found = [i for i, line in enumerate(lines) if line.startswith("Views FAILED verification")]
    assert found, result.output
    assert lines[0].startswith("Audit log intact"), result.output  # the chain is not what broke
    return lines[found[0] + 1:]


def test_intact_views_verify_and_say_what_was_compared(folded):
    result = _verify()
    assert result.exit_code == 0, result.output
    assert re.search(r"Views match the events up to position 40: 4 runs, \d+ task instances, "
                     r"1 pools, 5 operations, \d+ audit entries\.", result.stdout), result.output


def test_a_forged_actor_in_every_audit_entry_is_one_line_naming_the_first_seq_and_the_count(folded):
    sql(folded, "UPDATE audit_entry SET actor = 'mallory'")
    ((first, count),) = sql(folded, "SELECT min(seq), count(*) FROM audit_entry")
    lines = _failed(_verify())
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"audit_entry seq {first} position "), lines
    assert 'actor is "mallory" in the view' in lines[0]
    assert lines[0].endswith(f"(and {count - 1} more like it)")


@pytest.mark.parametrize(("forgery", "expected"), [
    ("UPDATE task_instance SET state = 'forged' WHERE ctid = (SELECT min(ctid) FROM task_instance)",
     r"^task_instance dag etl run \S+ task \w+: state is \"forged\" in the view, \S+ in the events$"),
    ("UPDATE task_instance SET try_number = try_number + 7",
     r"^task_instance dag \S+ run \S+ task \S+: try_number is \d+ in the view, \d+ in the events"),
    ("UPDATE dag_run SET conf = '{\"forged\": true}'",
     r"^dag_run dag \S+ run \S+: conf is \{\"forged\": true\} in the view, .* in the events"),
    ("DELETE FROM task_instance WHERE ctid = (SELECT min(ctid) FROM task_instance)",
     r"^task_instance dag \S+ run \S+ task \S+: in the events, missing from the view$"),
    ("INSERT INTO pool VALUES ('forged', 9)", r"^pool name forged: in the view, from no event$"),
    ("UPDATE operation SET reason = 'forged'",
     r"^operation operation_id [0-9a-f-]{36}: reason is \"forged\" in the view, .* in the events"),
    ("DELETE FROM audit_entry WHERE seq = (SELECT max(seq) FROM audit_entry)",
     r"^audit_entry seq \d+ position \d+ .*: in the events, missing from the view$"),
    ("UPDATE audit_entry SET to_state = 'success', details = '{\"x\": 1}' WHERE seq = 3",
     r"^audit_entry seq 3 position \d+ .*: (to_state|details) is .* in the view, .* in the events$"),
])
def test_each_forged_view_row_is_named_by_view_key_and_column(folded, forgery, expected):
    sql(folded, forgery)
    lines = _failed(_verify())
    assert any(re.search(expected, line) for line in lines), lines


def test_two_forged_columns_of_one_row_are_two_kinds(folded):
    sql(folded, "UPDATE audit_entry SET to_state = 'x', reason = 'y' WHERE seq = 3")
    lines = _failed(_verify())
    assert len(lines) == 2 and all(line.startswith("audit_entry seq 3 ") for line in lines), lines
    assert {re.search(r": (\w+) is ", line).group(1) for line in lines} == {"to_state", "reason"}


def test_more_than_ten_kinds_are_capped_with_a_count_of_the_rest(folded):
    sql(folded, "UPDATE audit_entry SET event = 'x', dag_id = 'x', run_id = 'x', task_id = 'x', "
                "from_state = 'x', to_state = 'x', try_number = 99, actor = 'x', reason = 'x', "
                "operation_id = 'x', operation = 'x', details = '{}'", "UPDATE pool SET slots = 77")
    (entries,) = sql(folded, "SELECT count(*) FROM audit_entry")
    lines = _failed(_verify())
    assert len(lines) == 11, lines
    assert re.fullmatch(r"and 3 more kinds of discrepancy, in \d+ rows", lines[-1]), lines
    assert entries[0] > 1


def test_a_tracking_position_moved_forward_over_unfolded_events_is_found(ledger, database_url):
    history = golden_history()
    ledger.recorder.insert_events(history[:10])
    ViewProjector(ledger).catch_up()
    ledger.recorder.insert_events(history[10:])
    sql(database_url, f"UPDATE ledgerflow_tracking SET notification_id = {len(history)}")
    lines = _failed(_verify())
    assert any("in the events, missing from the view" in line for line in lines), lines


def test_a_tracking_position_beyond_the_log_is_found(folded):
    sql(folded, "UPDATE ledgerflow_tracking SET notification_id = 1000")
    lines = _failed(_verify())
    assert lines == ["ledgerflow_tracking views: the views claim position 1000 but the log ends at 40"]


def test_events_the_views_have_not_folded_yet_are_no_discrepancy(ledger, database_url):
    history = golden_history()
    ledger.recorder.insert_events(history[:12])
    ViewProjector(ledger).catch_up()
    ledger.recorder.insert_events(history[12:])
    result = _verify()
    assert result.exit_code == 0, result.output
    assert f"up to position 12, {len(history) - 12} events behind the log" in result.stdout


def test_checking_the_views_writes_nothing_and_leaves_them_as_they_were(folded):
    sql(folded, "UPDATE dag_run SET state = 'forged' WHERE ctid = (SELECT min(ctid) FROM dag_run)")
    before = dump(folded), sql(folded, "SELECT * FROM audit_entry ORDER BY seq")
    tracking = sql(folded, "SELECT * FROM ledgerflow_tracking")
    assert _verify().exit_code == 1
    assert (dump(folded), sql(folded, "SELECT * FROM audit_entry ORDER BY seq")) == before
    assert sql(folded, "SELECT * FROM ledgerflow_tracking") == tracking


def test_control_characters_of_a_forged_value_are_shown_escaped(folded):
    sql(folded, "UPDATE audit_entry SET actor = E'\\x1b[2J\\x07' WHERE seq = 1")
    result = _verify()
    (line,) = _failed(result)
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert r'actor is "\u001b[2J\u0007" in the view' in line


def test_no_views_checks_the_chain_only(folded):
    sql(folded, "UPDATE audit_entry SET actor = 'alice'")
    result = _verify("--no-views")
    assert result.exit_code == 0, result.output
    assert "Views" not in result.output


def test_a_forged_view_fails_alongside_a_broken_chain(folded):
    sql(folded, "UPDATE audit_entry SET actor = 'alice'",
        "SET session_replication_role = replica",
        "UPDATE ledgerflow_chain SET recorded_at = recorded_at - interval '1 day' "
        "WHERE notification_id = 2")
    result = _verify()
    assert result.exit_code == 1
    assert result.stdout.startswith("Audit log FAILED verification at position 2")
    assert 'actor is "alice" in the view' in result.stdout


def test_views_cannot_be_checked_in_an_export_file(folded, tmp_path):
    export = tmp_path / "all.jsonl"
    assert cli("audit", "export", str(export)).exit_code == 0
    result = _verify("--views", "--export", str(export))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: --views checks the database's views; an --export file has none"]
    assert _verify("--export", str(export)).exit_code == 0
