"""`projections status` and `projections rebuild` say when the hash chain does not verify."""

from __future__ import annotations

import pytest
from audit_support import sql
from dagfiles import cli
from golden_views import dump, golden_history
from refusals import assert_refused

from ledgerflow.engine.application.service import Ledgerflow
from ledgerflow.engine.errors import RefusedCommand
from ledgerflow.projections.projector import ViewProjector

FORGE = ("SET session_replication_role = replica",
         "UPDATE ledgerflow_events SET state = convert_to(replace(convert_from(state, 'UTF8'), "
         "'\"bob\"', '\"mallory\"'), 'UTF8') WHERE notification_id = 7")


@pytest.fixture
def forged(ledger, database_url):
    """The golden history folded, then its event 7 rewritten behind the ledger's back."""
    ledger.recorder.insert_events(golden_history())
    ViewProjector(ledger).catch_up()
    sql(database_url, *FORGE)
    (changed,) = sql(database_url, "SELECT convert_from(state, 'UTF8') LIKE '%mallory%' "
                                   "FROM ledgerflow_events WHERE notification_id = 7")
    assert changed[0]
    return database_url


def test_status_says_where_the_chain_breaks_and_exits_1(forged):
    result = cli("projections", "status")
    assert result.exit_code == 1, result.output
    first, second = result.stdout.splitlines()
    assert first.split() == ["position", "40", "head", "40", "lag", "0"]
    assert second.startswith("The hash chain does not verify at position 7: ")
    assert "ledgerflow audit verify" in second


def test_rebuild_refuses_a_chain_that_does_not_verify_and_leaves_the_views(forged):
    sql(forged, "UPDATE pool SET slots = 99")
    views = dump(forged)
    result = cli("projections", "rebuild", "-y")
    assert_refused(result, forged, 40, "the hash chain does not verify at position 7",
                   "--allow-broken-chain")
    assert dump(forged) == views


def test_rebuild_refuses_before_it_asks(forged):
    result = cli("projections", "rebuild", input="y\n")
    assert result.exit_code == 2
    assert "Drop the" not in result.output


def test_allow_broken_chain_rebuilds_with_a_warning_naming_the_break(forged):
    sql(forged, "UPDATE pool SET slots = 99")
    result = cli("projections", "rebuild", "-y", "--allow-broken-chain")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Rebuilt views from 40 events."
    (warning,) = result.stderr.strip().splitlines()
    assert warning.startswith("Warning: The hash chain does not verify at position 7: ")
    assert dump(forged)["pool"] == [{"name": "db", "slots": 2}]
    (actors,) = sql(forged, "SELECT count(*) FROM audit_entry WHERE actor = 'mallory'")
    assert actors[0] > 0  # the views fold the events as they are now; the chain still says so
    assert cli("audit", "verify").exit_code == 1


def test_the_service_refuses_a_rebuild_without_a_plan_when_the_chain_breaks(forged, database_url):
    with Ledgerflow(database_url) as svc, pytest.raises(RefusedCommand, match="position 7"):
        svc.rebuild_views()
    with Ledgerflow(database_url) as svc:
        assert svc.rebuild_views(svc.plan_rebuild(allow_broken_chain=True)) == 40
