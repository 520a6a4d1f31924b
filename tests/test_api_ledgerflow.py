"""ledgerflow's own additions under /api/ledgerflow/v1: reads as of an instant, a task instance's
audit history, and the audit chain's verify, digest and streamed export."""

from __future__ import annotations

import json
import time

from airflow_client.client.api import task_instance_api
from airflow_client.client.models import PatchTaskInstanceBody
from cli_runner import cli

RUN1 = "backfill__2024-01-01T00:00:00+00:00"
V1 = "/api/ledgerflow/v1"


def _mark_failed(api, note: str = "bad rows") -> None:
    with api.client("operator") as c:
        task_instance_api.TaskInstanceApi(c).patch_task_instance(
            "pychain", RUN1, "b", PatchTaskInstanceBody(new_state="failed", note=note))


def test_run_and_task_instance_reads_as_of_an_instant_show_the_state_then(api):
    answer = api.call("GET", f"{V1}/dags/pychain/dagRuns/{RUN1}/taskInstances/b")
    assert answer.json()["state"] == "success"
    time.sleep(1.1)  # the instant has whole seconds: it must not fall before the backfill's last events
    instant = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    time.sleep(1.1)
    _mark_failed(api)
    now = api.call("GET", f"/api/v2/dags/pychain/dagRuns/{RUN1}/taskInstances/b").json()
    then = api.call("GET", f"{V1}/dags/pychain/dagRuns/{RUN1}/taskInstances/b", params={"as_of": instant}).json()
    assert (now["state"], then["state"]) == ("failed", "success")
    listed = api.call("GET", f"{V1}/dags/pychain/dagRuns/{RUN1}/taskInstances", params={"as_of": instant}).json()
    assert {t["task_id"]: t["state"] for t in listed["task_instances"]} == {"a": "success", "b": "success",
                                                                           "c": "success"}
    early = api.call("GET", f"{V1}/dags/pychain/dagRuns", params={"as_of": "2000-01-01"}).json()
    assert early["total_entries"] == 0
    assert api.call("GET", f"{V1}/dags/pychain/dagRuns/{RUN1}", params={"as_of": "2000-01-01"}).status_code == 404


def test_the_history_of_a_task_instance_says_who_when_why_and_from_to(api):
    _mark_failed(api, note="wrong totals")
    answer = api.call("GET", f"{V1}/dags/pychain/dagRuns/{RUN1}/taskInstances/b/history", as_user="auditor")
    entries = answer.json()["entries"]
    assert [e["to_state"] for e in entries][-1] == "failed"
    last = entries[-1]
    assert (last["actor"], last["reason"], last["operation"], last["from_state"]) == (
        "operator", "wrong totals", "tasks mark", "success")
    assert any(e["to_state"] == "running" and e["try_number"] == 1 for e in entries)
    assert api.call("GET", f"{V1}/dags/pychain/dagRuns/{RUN1}/taskInstances/b/history",
                    as_user="viewer").status_code == 403


def test_verify_and_digest_agree_with_the_command_line(api):
    verified = api.call("GET", f"{V1}/audit/verify", as_user="auditor").json()
    assert verified["intact"] is True and verified["count"] > 0
    digest = api.call("GET", f"{V1}/audit/digest", as_user="auditor").json()["digest"]
    assert digest == cli("audit", "digest").output.strip()
    assert f"position={verified['head_position']}" in digest


def test_the_export_streams_every_event_verifiable_on_its_own(api, tmp_path):
    answer = api.call("GET", f"{V1}/audit/export", as_user="auditor")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    assert "content-length" not in answer.headers  # streamed as the export is read
    body = answer.text
    lines = body.splitlines()
    assert lines and all(json.loads(line)["position"] for line in lines)
    exported = tmp_path / "export.jsonl"
    exported.write_text(body)
    checked = cli("audit", "verify", "--export", str(exported))
    assert checked.exit_code == 0 and "intact" in checked.output
    csv = api.call("GET", f"{V1}/audit/export", as_user="auditor", params={"format": "csv"})
    assert csv.text.splitlines()[0].startswith("position") and len(csv.text.splitlines()) == len(lines) + 1
    assert api.call("GET", f"{V1}/audit/export", as_user="auditor", params={"since": "not a date"}).status_code == 400
