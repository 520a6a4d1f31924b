"""Who may call the HTTP API: tokens, roles (a call beyond the role is 403 and writes nothing),
refused logins (audited and throttled), attribution to the authenticated user, required reasons."""

from __future__ import annotations

import jwt
import pytest
from api_support import PASSWORD
from cli_runner import cli, cli_json
from recorded import event_count, query

RUN1 = "backfill__2024-01-01T00:00:00+00:00"
CLEAR = ("POST", "/api/v2/dags/pychain/clearTaskInstances", {"dry_run": False, "only_failed": False})
TRIGGER = ("POST", "/api/v2/dags/pychain/dagRuns", {"dag_run_id": "r1", "logical_date": None})
MARK = ("PATCH", f"/api/v2/dags/pychain/dagRuns/{RUN1}/taskInstances/b", {"new_state": "failed"})
POOL = ("POST", "/api/v2/pools", {"name": "gpu", "slots": 1})
EVENTS = ("GET", "/api/v2/eventLogs", None)
VERIFY = ("GET", "/api/ledgerflow/v1/audit/verify", None)
RUNS = ("GET", "/api/v2/dags/pychain/dagRuns", None)


def test_every_call_but_version_and_health_needs_a_bearer_token(api):
    assert api.call("GET", "/api/v2/version", as_user=None).status_code == 200
    assert api.call("GET", "/api/v2/monitor/health", as_user=None).status_code == 200
    for method, path, _ in (RUNS, EVENTS, VERIFY, ("GET", "/api/v2/dags", None), ("GET", "/api/v2/pools", None)):
        answer = api.call(method, path, as_user=None)
        assert answer.status_code == 401, path
        assert set(answer.json()) == {"detail"} and answer.headers["www-authenticate"] == "Bearer"


def test_a_token_signed_with_another_key_or_expired_is_401(api):
    forged = jwt.encode({"sub": "admin", "exp": 4102444800}, "x" * 40, algorithm="HS256")
    answer = api.call("GET", "/api/v2/dags", as_user=None, headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    assert api.call("GET", "/api/v2/dags", as_user=None, headers={"Authorization": "Bearer not.a.jwt"}
                    ).status_code == 401


def test_a_token_is_a_signed_jwt_with_an_expiry(api):
    claims = jwt.decode(api.token("viewer"), options={"verify_signature": False})
    assert claims["sub"] == "viewer" and claims["exp"] > claims["iat"]


@pytest.mark.parametrize(("role", "call", "allowed"), [
    ("viewer", RUNS, True), ("viewer", CLEAR, False), ("viewer", TRIGGER, False), ("viewer", MARK, False),
    ("viewer", EVENTS, False), ("viewer", POOL, False), ("viewer", VERIFY, False),
    ("operator", CLEAR, True), ("operator", TRIGGER, True), ("operator", MARK, True), ("operator", EVENTS, False),
    ("operator", POOL, False), ("auditor", EVENTS, True), ("auditor", VERIFY, True), ("auditor", RUNS, True),
    ("auditor", CLEAR, False), ("auditor", TRIGGER, False), ("admin", POOL, True), ("admin", CLEAR, True),
    ("admin", EVENTS, True),
])
def test_a_call_beyond_the_role_is_403_and_writes_nothing(api, role, call, allowed):
    method, path, body = call
    api.token(role)  # logging in is not what is measured
    before = event_count(api.database_url)
    answer = api.call(method, path, as_user=role, json=body)
    if allowed:
        assert answer.status_code in (200, 201), answer.text
    else:
        assert answer.status_code == 403, answer.text
        assert role in answer.json()["detail"]
        assert event_count(api.database_url) == before


def test_a_disabled_users_tokens_stop_working_at_once(api):
    token = api.token("operator")
    assert api.call("GET", "/api/v2/dags", as_user="operator").status_code == 200
    assert cli("users", "disable", "operator", "-y").exit_code == 0
    answer = api.call("GET", "/api/v2/dags", as_user=None, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    login = api.call("POST", "/auth/token", as_user=None, json={"username": "operator", "password": PASSWORD})
    assert login.status_code == 401


def test_a_role_change_applies_to_tokens_already_given(api):
    api.token("viewer")
    assert api.call(*TRIGGER[:2], as_user="viewer", json=TRIGGER[2]).status_code == 403
    assert cli("users", "set-role", "viewer", "operator", "-y").exit_code == 0
    assert api.call(*TRIGGER[:2], as_user="viewer", json=TRIGGER[2]).status_code == 200


def test_refused_logins_are_audited_with_why(api):
    for username, password in (("viewer", "wrong password!"), ("ghost", PASSWORD)):
        answer = api.call("POST", "/auth/token", as_user=None, json={"username": username, "password": password})
        assert answer.status_code == 401 and "access_token" not in answer.json()
    shown = [e for e in cli_json("audit", "log", "-o", "json") if e["event"] == "LoginFailed"]
    assert [(e["actor"], e["reason"]) for e in shown] == [("anonymous", "wrong password"),
                                                          ("anonymous", "unknown user")]
    rows = query(api.database_url, "SELECT event, actor, reason, details FROM audit_entry "
                                   "WHERE event = 'LoginFailed' ORDER BY seq")
    assert [(r["actor"], r["reason"], r["details"]["username"]) for r in rows] == [
        ("anonymous", "wrong password", "viewer"), ("anonymous", "unknown user", "ghost")]
    assert rows[0]["details"]["client"] == "127.0.0.1"


def test_repeated_refused_logins_are_throttled_even_with_the_right_password_then(api):
    for _ in range(5):
        assert api.call("POST", "/auth/token", as_user=None,
                        json={"username": "admin", "password": "guess-guess"}).status_code == 401
    before = event_count(api.database_url)
    answer = api.call("POST", "/auth/token", as_user=None, json={"username": "admin", "password": PASSWORD})
    assert answer.status_code == 429
    assert event_count(api.database_url) == before


def test_the_actor_is_the_authenticated_user_and_the_reason_comes_from_the_header(api):
    answer = api.call(*TRIGGER[:2], as_user="operator", json=TRIGGER[2],
                      headers={"X-Ledgerflow-Reason": "month-end rerun"})
    assert answer.status_code == 200, answer.text
    (entry,) = query(api.database_url, "SELECT actor, reason FROM audit_entry WHERE run_id = 'r1'")
    assert entry == {"actor": "operator", "reason": "month-end rerun"}
    log = cli("audit", "log", "--run-id", "r1")
    assert "operator" in log.output and "month-end rerun" in log.output


def test_a_change_without_a_reason_is_400_when_reasons_are_required(api, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_REQUIRE_REASON", "1")
    api.token("operator")
    before = event_count(api.database_url)
    for method, path, body in (CLEAR, TRIGGER, MARK):
        answer = api.call(method, path, as_user="operator", json=body)
        assert answer.status_code == 400, answer.text
        assert "note" in answer.json()["detail"]
    assert event_count(api.database_url) == before
    dry = api.call("POST", CLEAR[1], as_user="operator", json={"dry_run": True})
    assert dry.status_code == 200  # a dry run changes nothing: it needs no reason
    noted = api.call("POST", CLEAR[1], as_user="operator", json={**CLEAR[2], "note": "rerun all"})
    assert noted.status_code == 200, noted.text
