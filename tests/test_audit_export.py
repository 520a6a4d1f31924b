import csv
import json

import pytest
from audit_support import head_recorded_at, record, sql, start_run, ti
from dagfiles import cli

from ledgerflow.engine.domain.dagrun import DagRun


@pytest.fixture
def history(database_url, ledger):
    run = start_run(ledger, actor="carol")
    record(ledger, run, DagRun.TaskInstancesChanged, actor="dave", reason="ünïcode reason",
           changes=[ti("a", None, "success", 1)])
    record(ledger, run, DagRun.TaskInstancesChanged, actor="dave", reason=None,
           changes=[ti("b", None, "success", 1)])
    return database_url


def _export(tmp_path, fmt, *args):
    path = tmp_path / f"export.{fmt}"
    result = cli("audit", "export", "-o", fmt, str(path), *args)
    assert result.exit_code == 0, result.output
    return path


def _verify_export(path, *args):
    return cli("audit", "verify", "--export", str(path), *args)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_verifies_on_its_own(history, tmp_path, fmt):
    path = _export(tmp_path, fmt)
    sql(history, "DROP TABLE ledgerflow_chain")  # the database plays no part any more
    result = _verify_export(path)
    assert result.exit_code == 0, result.output
    assert "9 events" in result.output


def test_an_export_holds_events_with_their_chain_hashes(history, tmp_path):
    lines = _export(tmp_path, "jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["position"] for r in records] == list(range(1, 10))
    (head,) = sql(history, "SELECT encode(hash, 'hex') FROM ledgerflow_chain "
                           "WHERE notification_id = 9")
    assert records[-1]["hash"] == head[0]
    assert all(r["prev_hash"] == p["hash"] for p, r in zip(records, records[1:], strict=False))
    assert {r["actor"] for r in records if r["event"].startswith("DagRun.")} == {"carol", "dave"}


def test_a_time_range_exports_a_slice_anchored_on_the_link_before_it(history, tmp_path, ledger):
    since = head_recorded_at(history)
    run = start_run(ledger, logical_date="2024-01-05T00:00:00+00:00")
    record(ledger, run, DagRun.TaskInstancesChanged, actor="dave", reason=None,
           changes=[ti("a", None, "running", 1)])
    path = _export(tmp_path, "jsonl", "--since", since)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["position"] for r in records] == list(range(7, 16))
    result = _verify_export(path)
    assert result.exit_code == 0, result.output
    assert records[0]["prev_hash"] in result.output


@pytest.mark.parametrize("tamper", ["rewrite", "delete", "insert", "reorder", "relabel"])
def test_a_tampered_jsonl_export_fails(history, tmp_path, tamper):
    path = _export(tmp_path, "jsonl")
    lines = path.read_text().splitlines()
    if tamper == "rewrite":
        lines[5] = lines[5].replace("dave", "mallory")
    elif tamper == "delete":
        del lines[4]
    elif tamper == "insert":
        lines.insert(4, lines[3])
    elif tamper == "reorder":
        lines[3], lines[4] = lines[4], lines[3]
    else:  # the readable columns must match the event they summarise
        record = json.loads(lines[4])
        record["actor"] = "mallory"
        lines[4] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    result = _verify_export(path)
    assert result.exit_code == 1, result.output
    assert "position" in result.output


def test_a_tampered_csv_export_fails(history, tmp_path):
    path = _export(tmp_path, "csv")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[5]["state"] = rows[5]["state"].replace("success", "failed")
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = _verify_export(path)
    assert result.exit_code == 1
    assert "position 6" in result.output


def test_an_export_checks_against_a_digest(history, tmp_path):
    digest = tmp_path / "head.txt"
    digest.write_text(cli("audit", "digest").output)
    path = _export(tmp_path, "jsonl")
    assert _verify_export(path, "--digest", str(digest)).exit_code == 0
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    result = _verify_export(path, "--digest", str(digest))
    assert result.exit_code == 1 and "position 9" in result.output


def test_a_file_that_is_not_an_export_is_refused(history, tmp_path):
    junk = tmp_path / "junk.jsonl"
    junk.write_text("{not json\n")
    assert _verify_export(junk).exit_code == 2
    assert _verify_export(tmp_path / "missing.jsonl").exit_code == 2
