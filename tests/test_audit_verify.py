import re
from pathlib import Path

import psycopg
import pytest
from audit_support import record, sql, start_run, ti
from dagfiles import cli

from ledgerflow.engine.audit.hashchain import GENESIS, link_v1
from ledgerflow.engine.domain.dagrun import DagRun
from ledgerflow.engine.infrastructure.migrations import sql_dir

NO_TRIGGERS = "ALTER TABLE ledgerflow_events DISABLE TRIGGER ALL"
REPLICA = "SET session_replication_role = replica"


@pytest.fixture
def history(database_url, ledger):
    """Three appends of three events each: positions 1 to 9."""
    run = start_run(ledger, actor="carol")
    record(ledger, run, DagRun.TaskInstancesChanged, actor="dave", reason="run",
           changes=[ti("a", None, "success", 1)])
    record(ledger, run, DagRun.TaskInstancesChanged, actor="dave", reason="run",
           changes=[ti("b", None, "success", 1)])
    return database_url


def _verify(*args):
    result = cli("audit", "verify", *args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _bad_position(result):
    assert result.exit_code == 1, result.output
    found = re.search(r"FAILED verification at position (\d+)", result.output)
    assert found, result.output
    return int(found.group(1))


def test_an_intact_log_verifies_with_its_count_and_head_hash(history):
    result = _verify()
    assert result.exit_code == 0, result.output
    (head,) = sql(history, "SELECT encode(hash, 'hex') FROM ledgerflow_chain "
                           "WHERE notification_id = 9")
    assert "9 events" in result.output and head[0] in result.output


def test_an_empty_log_verifies(database_url):
    result = _verify()
    assert result.exit_code == 0 and "0 events" in result.output


def test_the_database_refuses_update_delete_and_truncate_of_events_and_links(history):
    for table in ("ledgerflow_events", "ledgerflow_chain"):
        for statement in (f"UPDATE {table} SET notification_id = notification_id",
                          f"DELETE FROM {table}", f"TRUNCATE {table}"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                sql(history, statement)
    assert _verify().exit_code == 0


def test_a_rewritten_event_is_found_even_with_triggers_off(history):
    sql(history, REPLICA, "UPDATE ledgerflow_events SET state = convert_to(replace("
                          "convert_from(state, 'UTF8'), 'dave', 'mallory'), 'UTF8') "
                          "WHERE notification_id = 6")
    assert _bad_position(_verify()) == 6


def test_a_deleted_event_is_found(history):
    sql(history, NO_TRIGGERS, "DELETE FROM ledgerflow_events WHERE notification_id = 5")
    result = _verify()
    assert _bad_position(result) == 5
    assert "deleted" in result.output


def test_an_event_deleted_with_its_link_breaks_the_next_link(history):
    sql(history, REPLICA, "DELETE FROM ledgerflow_events WHERE notification_id = 5")
    sql(history, REPLICA, "DELETE FROM ledgerflow_chain WHERE notification_id = 5")
    assert _bad_position(_verify()) == 6


def test_an_event_inserted_outside_the_ledger_is_found(history):
    sql(history, "INSERT INTO ledgerflow_events (originator_id, originator_version, topic, state) "
                 "SELECT originator_id, 99, topic, state FROM ledgerflow_events "
                 "WHERE notification_id = 4")
    result = _verify()
    assert _bad_position(result) == 10
    assert "inserted" in result.output


def test_an_event_inserted_into_a_gap_in_the_middle_is_found(database_url, ledger):
    run = start_run(ledger)
    (gap,) = sql(database_url, "SELECT nextval('ledgerflow_events_notification_id_seq')")
    record(ledger, run, DagRun.TaskInstancesChanged, actor="dave", reason=None,
           changes=[ti("a", None, "success", 1)])
    sql(database_url, "INSERT INTO ledgerflow_events (notification_id, originator_id, "
                      "originator_version, topic, state) SELECT %s, originator_id, 42, topic, "
                      "state FROM ledgerflow_events WHERE notification_id = 1", params=gap)
    assert _bad_position(_verify()) == gap[0]


def test_reordered_events_are_found(history):
    sql(history, NO_TRIGGERS,
        "UPDATE ledgerflow_events SET notification_id = -4 WHERE notification_id = 4")
    sql(history, NO_TRIGGERS,
        "UPDATE ledgerflow_events SET notification_id = 4 WHERE notification_id = 5")
    sql(history, NO_TRIGGERS,
        "UPDATE ledgerflow_events SET notification_id = 5 WHERE notification_id = -4")
    assert _bad_position(_verify()) == 4


def test_a_rewritten_link_is_found(history):
    sql(history, REPLICA, "UPDATE ledgerflow_chain SET recorded_at = recorded_at - interval '1 day'"
                          " WHERE notification_id = 2")
    assert _bad_position(_verify()) == 2


def test_a_truncated_tail_passes_alone_but_fails_against_a_saved_digest(history, tmp_path):
    digest = tmp_path / "head.txt"
    saved = cli("audit", "digest")
    assert saved.exit_code == 0 and "position=9" in saved.output
    digest.write_text(saved.output)
    assert _verify("--digest", str(digest)).exit_code == 0
    sql(history, REPLICA, "DELETE FROM ledgerflow_events WHERE notification_id >= 7")
    sql(history, REPLICA, "DELETE FROM ledgerflow_chain WHERE notification_id >= 7")
    assert _verify().exit_code == 0
    result = _verify("--digest", str(digest))
    assert result.exit_code == 1
    assert "position 6" in result.output and "position 9" in result.output
    assert "removed" in result.output


def test_a_tail_rewritten_with_recomputed_links_fails_against_a_saved_digest(history, tmp_path):
    digest = tmp_path / "head.txt"
    digest.write_text(cli("audit", "digest").output)
    sql(history, REPLICA,
        "UPDATE ledgerflow_events SET state = convert_to(replace(convert_from(state, 'UTF8'), "
        "'dave', 'mallory'), 'UTF8') WHERE notification_id = 9",
        "UPDATE ledgerflow_chain c SET hash = ledgerflow_chain_link_v1("
        "(SELECT hash FROM ledgerflow_chain WHERE notification_id = 8), 9, e.originator_id, "
        "e.originator_version, c.recorded_at, e.topic, e.state) FROM ledgerflow_events e "
        "WHERE e.notification_id = 9 AND c.notification_id = 9")
    assert _verify().exit_code == 0
    result = _verify("--digest", str(digest))
    assert result.exit_code == 1 and "position 9" in result.output


def test_a_dropped_chain_table_fails_without_a_traceback(history):
    sql(history, "DROP TABLE ledgerflow_chain")
    result = _verify()
    assert result.exit_code == 1
    assert "could not be read" in result.output


def test_an_unreadable_digest_file_is_refused_with_exit_2(history, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("hello")
    assert _verify("--digest", str(bad)).exit_code == 2
    assert _verify("--digest", str(tmp_path / "missing.txt")).exit_code == 2


def test_python_and_sql_compute_the_same_links(history):
    rows = sql(history, "SELECT e.notification_id, originator_id, originator_version, recorded_at,"
                        " topic, state, hash FROM ledgerflow_events e JOIN ledgerflow_chain c "
                        "USING (notification_id) ORDER BY 1")
    prev = GENESIS
    for position, oid, version, at, topic, state, stored in rows:
        (in_sql,) = sql(history, "SELECT ledgerflow_chain_link_v1(%s, %s, %s, %s, %s, %s, %s)",
                        params=(prev, position, oid, version, at, topic, state))
        prev = link_v1(prev, position, oid, version, at, topic, state)
        assert prev == bytes(stored) == bytes(in_sql[0])


def test_the_migration_links_events_stored_before_the_chain_existed(history):
    migration = (Path(sql_dir()) / "003_hash_chain.sql").read_text()
    backfill = migration[migration.index("DO $$"):]
    sql(history, REPLICA, "DELETE FROM ledgerflow_chain")
    assert _bad_position(_verify()) == 1
    sql(history, backfill)
    assert _verify().exit_code == 0
