"""What a new user runs into first: completion, plain help, a bounded audit log, safe exports,
consistent refusals, and parallelism as Airflow's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagfiles import backfill, cli, cli_json, make_dags, most_at_once, spans


def test_the_shell_completion_script_is_offered(tmp_path):
    script = Path(sys.executable).parent / "ledgerflow"  # the console script the completion is for
    shown = subprocess.run([str(script), "--show-completion", "bash"],
                           capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "_ledgerflow_completion" in shown.stdout


def test_help_on_80_columns_keeps_every_flag_whole_and_shows_no_bool_metavar(tmp_path):
    shown = subprocess.run([sys.executable, "-m", "ledgerflow.cli", "dags", "backfill", "-h"],
                           capture_output=True, text=True, timeout=60, cwd=tmp_path,
                           env={**os.environ, "COLUMNS": "80"})
    assert shown.returncode == 0, shown.stderr
    assert "--ignore-first-depends-on-past" in shown.stdout
    assert "<bool>" not in shown.stdout and "…" not in shown.stdout
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80


def test_without_a_setting_a_backfill_runs_more_tries_at_once_than_this_machine_has_cpus(tmp_path, database_url,
                                                                                        monkeypatch):
    monkeypatch.delenv("LEDGERFLOW_PARALLELISM", raising=False)
    monkeypatch.delenv("LEDGERFLOW_EXECUTOR", raising=False)
    dags = make_dags(tmp_path, "parallel")
    runs = max(4, (os.cpu_count() or 1) + 2)
    result = backfill(dags, "parallel", "-s", "2024-01-01", "-e", f"2024-01-{runs:02d}")
    assert result.exit_code == 0, result.output
    assert len(spans(dags.lines())) == runs
    assert most_at_once(dags.lines()) > (os.cpu_count() or 1)


def _entries(dags, n: int) -> None:
    for day in range(1, n + 1):
        assert cli("dags", "trigger", "parallel", "-S", str(dags.folder), "-e", f"2024-01-{day:02d}").exit_code == 0


def test_the_audit_log_shows_the_newest_entries_by_default_and_says_how_many_it_left_out(tmp_path, database_url):
    dags = make_dags(tmp_path, "parallel")
    _entries(dags, 3)
    shown = cli("audit", "log", "--limit", "2", "-o", "json")
    assert shown.exit_code == 0, shown.output
    assert "1 older entries left out" in shown.stderr
    every = cli("audit", "log", "--limit", "0", "-o", "json")
    assert every.exit_code == 0 and "left out" not in every.stderr


def test_an_export_takes_its_format_from_the_file_name_and_never_overwrites_silently(tmp_path, database_url):
    dags = make_dags(tmp_path, "parallel")
    _entries(dags, 1)
    target = tmp_path / "events.csv"
    assert cli("audit", "export", str(target)).exit_code == 0
    assert not target.read_text().startswith("{")  # CSV with its header, not JSON lines
    assert target.read_text().splitlines()[0].count(",") > 3
    again = cli("audit", "export", str(target))
    assert again.exit_code == 2 and "-y" in again.output
    assert cli("audit", "export", str(target), "-y").exit_code == 0


def test_a_conf_given_over_an_existing_run_is_shown_before_it_changes_and_kept_in_the_audit_trail(
        tmp_path, database_url):
    dags = make_dags(tmp_path, "parallel")
    assert cli("dags", "trigger", "parallel", "-S", str(dags.folder), "-e", "2024-01-02",
               "-c", '{"factor": 1}').exit_code == 0
    result = backfill(dags, "parallel", "-s", "2024-01-02", "-e", "2024-01-02", "-c", '{"factor": 2}')
    assert result.exit_code == 0, result.output
    assert 'conf {"factor": 1} -> {"factor": 2}' in result.output
    adopted = [e for e in cli_json("audit", "log", "--dag-id", "parallel", "-o", "json") if e["event"] == "Adopted"]
    assert len(adopted) == 1
    (shown,) = cli_json("audit", "show", adopted[0]["operation_id"], "-o", "json")
    (change,) = [c for c in shown["changes"] if c["event"] == "Adopted"]
    assert (change["details"]["from_conf"], change["details"]["conf"]) == ({"factor": 1}, {"factor": 2})
