"""A tracking position moved back or deleted never replays events into the views twice."""

from __future__ import annotations

from collections import Counter

import pytest
from audit_support import sql
from dagfiles import cli
from golden_views import dump, expected_views, golden_history

from ledgerflow.projections.projector import ViewProjector

AUDIT = "SELECT * FROM audit_entry ORDER BY seq"
AUDIT_WITHOUT_SEQ = "SELECT to_jsonb(a) - 'seq' FROM audit_entry a"
MOVES = {
    "to the start": "UPDATE ledgerflow_tracking SET notification_id = 0",
    "into the middle": "UPDATE ledgerflow_tracking SET notification_id = 17",
    "one back": "UPDATE ledgerflow_tracking SET notification_id = notification_id - 1",
    "deleted": "DELETE FROM ledgerflow_tracking",
    "set null": "UPDATE ledgerflow_tracking SET notification_id = NULL",
}


@pytest.fixture
def folded(ledger, database_url):
    ledger.recorder.insert_events(golden_history())
    ViewProjector(ledger).catch_up()
    return database_url


@pytest.mark.parametrize("move", list(MOVES.values()), ids=list(MOVES))
def test_commands_work_after_the_tracking_position_moves_back_and_nothing_is_folded_twice(folded, move):
    entries = sql(folded, AUDIT)
    sql(folded, move)
    result = cli("audit", "log", "--limit", "0", "-o", "json")
    assert result.exit_code == 0, result.output
    assert dump(folded) == expected_views()
    assert sql(folded, AUDIT) == entries
    assert cli("projections", "status").stdout.split()[1::2] == ["40", "40", "0"]
    assert cli("audit", "verify").exit_code == 0


def test_new_events_fold_after_the_position_was_moved_back(ledger, database_url):
    history = golden_history()
    ledger.recorder.insert_events(history[:20])
    ViewProjector(ledger).catch_up()
    sql(database_url, MOVES["to the start"])
    ledger.recorder.insert_events(history[20:])
    ViewProjector(ledger).catch_up()
    assert dump(database_url) == expected_views()
    entries = sql(database_url, AUDIT)
    ViewProjector(ledger).rebuild()
    assert sql(database_url, AUDIT) == entries


def test_runs_are_not_folded_twice_when_the_audit_tail_is_gone_too(folded):
    """Without the last audit entries the catch-up resumes earlier; a run's rows already hold
    those events (their version says so), so a clear is not counted twice, nor an entry doubled."""
    entries = Counter(map(str, sql(folded, AUDIT_WITHOUT_SEQ)))
    sql(folded, "DELETE FROM audit_entry WHERE position > 20", MOVES["deleted"])
    result = cli("audit", "log", "-o", "json")
    assert result.exit_code == 0, result.output
    assert dump(folded) == expected_views()
    after = Counter(map(str, sql(folded, AUDIT_WITHOUT_SEQ)))
    assert not after - entries

