import pytest
from audit_support import dag_folder, sql
from dagfiles import cli


@pytest.fixture
def require_reason(monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_REQUIRE_REASON", "1")


def _events(url):
    return sql(url, "SELECT count(*) FROM ledgerflow_events")[0][0]


@pytest.mark.parametrize("reason", [None, "   "])
def test_trigger_without_a_reason_is_refused_and_writes_nothing(database_url, tmp_path,
                                                                require_reason, reason):
    dags = dag_folder(tmp_path)
    args = ["dags", "trigger", "d", "-S", str(dags), "-e", "2024-01-02"]
    result = cli(*args, *(["--reason", reason] if reason else []))
    assert result.exit_code == 2
    assert "--reason is required" in result.output
    assert _events(database_url) == 0


def test_pools_set_without_a_reason_is_refused_and_writes_nothing(database_url, require_reason):
    result = cli("pools", "set", "etl", "4")
    assert result.exit_code == 2
    assert "--reason is required" in result.output
    assert _events(database_url) == 0


def test_with_a_reason_the_commands_run_and_record_it(database_url, tmp_path, require_reason):
    dags = dag_folder(tmp_path)
    assert cli("dags", "trigger", "d", "-S", str(dags), "-e", "2024-01-02",
               "--reason", "ticket 42").exit_code == 0
    assert cli("pools", "set", "etl", "4", "--reason", "ticket 43").exit_code == 0
    reasons = sql(database_url, "SELECT convert_from(state, 'UTF8')::jsonb ->> 'reason' FROM "
                                "ledgerflow_events WHERE topic LIKE '%Operation.Started' "
                                "ORDER BY notification_id")
    assert [r[0] for r in reasons] == ["ticket 42", "ticket 43"]


def test_without_the_setting_a_reason_is_optional(database_url, tmp_path):
    assert cli("pools", "set", "etl", "4").exit_code == 0
    assert _events(database_url) > 0


def test_a_backfill_without_a_reason_is_refused_and_writes_nothing(database_url, tmp_path,
                                                                   require_reason):
    dags = dag_folder(tmp_path)
    result = cli("dags", "backfill", "d", "-S", str(dags), "-s", "2024-01-02", "-e", "2024-01-03",
                 "-y")
    assert result.exit_code == 2
    assert _events(database_url) == 0
