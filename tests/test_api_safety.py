"""Bad input over HTTP is a 4xx with Airflow's error shapes, never a 500; bodies are bounded; no CORS
unless configured; the real `ledgerflow api-server` binds 127.0.0.1 and serves the official client."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time

import httpx
import jwt
import pytest
from api_support import PASSWORD, add_users, free_port
from dag_folders import make_dags
from recorded import event_count

RUN1 = "backfill__2024-01-01T00:00:00+00:00"


def test_a_bad_query_parameter_is_422_with_the_validation_error_shape(api):
    answer = api.call("GET", "/api/v2/dags/pychain/dagRuns", params={"limit": -1})
    assert answer.status_code == 422
    (error,) = answer.json()["detail"]
    assert error["loc"] == ["query", "limit"] and {"msg", "type"} <= set(error)


def test_a_body_with_an_unknown_field_or_a_conf_that_is_not_an_object_is_422(api):
    before = event_count(api.database_url)
    for body in ({"dag_run_id": "x", "logical_date": None, "colour": "red"}, {"logical_date": None, "conf": [1]}):
        assert api.call("POST", "/api/v2/dags/pychain/dagRuns", as_user="operator", json=body).status_code == 422
    assert api.call("POST", "/api/v2/dags/pychain/dagRuns", as_user="operator", content=b"{not json",
                    headers={"Content-Type": "application/json"}).status_code == 422
    assert event_count(api.database_url) == before


@pytest.mark.parametrize(("path", "params", "status", "needle"), [
    ("/api/v2/dags/nope", {}, 404, "nope"),
    ("/api/v2/dags/pychain/dagRuns/nope", {}, 404, "no run 'nope'"),
    (f"/api/v2/dags/pychain/dagRuns/{RUN1}/taskInstances/zz", {}, 404, "no task 'zz'"),
    ("/api/v2/dags/pychain/dagRuns", {"state": "sleeping"}, 400, "sleeping"),
    ("/api/v2/dags/pychain/dagRuns", {"order_by": "colour"}, 400, "order_by"),
    ("/api/v2/eventLogs", {"order_by": "-colour"}, 400, "order_by"),
    ("/api/ledgerflow/v1/dags/pychain/dagRuns", {"as_of": "yesterday-ish"}, 400, "as_of"),
    ("/api/v2/dags/pychain/dagRuns/a%00b", {}, 400, "dag_run_id contains a NUL"),
], ids=["unknown dag", "unknown run", "unknown task", "unknown state", "unknown order", "unknown event order",
        "bad as_of", "run id with a NUL"])
def test_bad_reads_are_4xx_with_a_detail_never_500(api, path, params, status, needle):
    answer = api.call("GET", path, params=params)
    assert answer.status_code == status, answer.text
    assert needle in answer.json()["detail"]


def test_a_mark_to_a_state_that_is_not_final_is_refused(api):
    before = event_count(api.database_url)
    answer = api.call("PATCH", f"/api/v2/dags/pychain/dagRuns/{RUN1}/taskInstances/b", as_user="operator",
                      json={"new_state": "queued"})
    assert answer.status_code == 400 and "success or failed" in answer.json()["detail"]
    assert event_count(api.database_url) == before


def test_reset_dag_runs_false_is_refused_rather_than_ignored(api):
    answer = api.call("POST", "/api/v2/dags/pychain/clearTaskInstances", as_user="operator",
                      json={"dry_run": True, "reset_dag_runs": False})
    assert answer.status_code == 400 and "reset_dag_runs" in answer.json()["detail"]


def test_a_body_over_the_limit_is_413_and_writes_nothing(api):
    before = event_count(api.database_url)
    huge = json.dumps({"dag_run_id": "big", "logical_date": None, "conf": {"x": "y" * 2_000_000}})
    answer = api.call("POST", "/api/v2/dags/pychain/dagRuns", as_user="operator", content=huge,
                      headers={"Content-Type": "application/json"})
    assert answer.status_code == 413

    def chunks():
        yield huge.encode()

    streamed = api.call("POST", "/api/v2/dags/pychain/dagRuns", as_user="operator", content=chunks(),
                        headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert event_count(api.database_url) == before


def test_no_cross_origin_headers_unless_configured(api):
    answer = api.call("OPTIONS", "/api/v2/dags", as_user=None, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in answer.headers
    plain = api.call("GET", "/api/v2/version", as_user=None, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_configured_origins_get_cors_headers(tmp_path, database_url, monkeypatch):
    from api_support import serving

    monkeypatch.setenv("LEDGERFLOW_API_CORS_ORIGINS", "https://ui.example")
    port = free_port()
    with serving(port):
        answer = httpx.options(f"http://127.0.0.1:{port}/api/v2/dags", headers={
            "Origin": "https://ui.example", "Access-Control-Request-Method": "GET"})
        assert answer.headers["access-control-allow-origin"] == "https://ui.example"
        other = httpx.options(f"http://127.0.0.1:{port}/api/v2/dags", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in other.headers


def test_the_openapi_document_is_served(api):
    spec = api.call("GET", "/openapi.json", as_user=None).json()
    assert "/api/v2/dags/{dag_id}/clearTaskInstances" in spec["paths"]
    assert "/auth/token" in spec["paths"]


def _server(database_url, home, *args, **env):
    return subprocess.Popen(
        [sys.executable, "-m", "ledgerflow.cli", "api-server", *args],
        env={**os.environ, "LEDGERFLOW_DATABASE_URL": database_url, "LEDGERFLOW_HOME": str(home), **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_listening(proc, port: int) -> str:
    deadline = time.monotonic() + 60
    seen = ""
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v2/version", timeout=1)
            return seen
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("ledgerflow api-server did not answer")


def _stop(proc) -> str:
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    return out


def test_the_real_server_binds_localhost_and_serves_the_official_client(tmp_path, database_url):
    import airflow_client.client as ac
    from airflow_client.client.api import dag_run_api

    add_users("viewer")
    dags = make_dags(tmp_path, "pychain")
    port = free_port()
    proc = _server(database_url, tmp_path / "home", "--port", str(port), LEDGERFLOW_DAGS_FOLDER=str(dags.folder))
    try:
        _wait_listening(proc, port)
        token = httpx.post(f"http://127.0.0.1:{port}/auth/token",
                           json={"username": "viewer", "password": PASSWORD}).json()["access_token"]
        with ac.ApiClient(ac.Configuration(host=f"http://127.0.0.1:{port}", access_token=token)) as c:
            assert dag_run_api.DagRunApi(c).get_dag_runs("pychain").total_entries == 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as keep_alive:  # one connection, reused
            keep_alive.get("/api/v2/version")
            took = []
            for _ in range(15):
                t0 = time.perf_counter()
                keep_alive.get("/api/v2/version").raise_for_status()
                took.append(time.perf_counter() - t0)
        # without TCP_NODELAY each answer on a reused connection waits out a delayed ACK (40 ms or more)
        assert sorted(took)[len(took) // 2] < 0.035, took
    finally:
        out = _stop(proc)
    assert re.search(rf"API on http://127\.0\.0\.1:{port} ", out), out
    key = tmp_path / "home" / "secret_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert jwt.decode(token, key.read_text().strip(), algorithms=["HS256"])["sub"] == "viewer"


def test_the_secret_key_from_the_environment_signs_tokens_and_a_restart_keeps_them_valid(tmp_path, database_url):
    add_users("viewer")
    port = free_port()
    key = "k" * 40
    proc = _server(database_url, tmp_path / "home", "--port", str(port), LEDGERFLOW_SECRET_KEY=key)
    try:
        _wait_listening(proc, port)
        token = httpx.post(f"http://127.0.0.1:{port}/auth/token",
                           json={"username": "viewer", "password": PASSWORD}).json()["access_token"]
    finally:
        _stop(proc)
    assert jwt.decode(token, key, algorithms=["HS256"])["sub"] == "viewer"
    assert not (tmp_path / "home" / "secret_key").exists()
    proc = _server(database_url, tmp_path / "home", "--port", str(port), LEDGERFLOW_SECRET_KEY=key)
    try:
        _wait_listening(proc, port)
        again = httpx.get(f"http://127.0.0.1:{port}/api/v2/pools", headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 200, again.text
    finally:
        _stop(proc)


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path, database_url):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _server(database_url, tmp_path / "home", "--port", str(port))
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    assert "Traceback" not in out
    assert out.strip().splitlines()[-1].startswith(f"Error: cannot listen on 127.0.0.1:{port}")
