"""DAG files that misbehave while they load: forever, a FIFO, a lingering thread, os._exit, prints.

Whatever a DAG file does at import, a command ends, says which file is broken and
why in one line on stderr, and `-o json` prints only JSON. What could hang or end
the process running it is run as a subprocess, so it fails the test instead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cli_runner import finished
from dagfiles import cli, event_count

from ledgerflow.engine.authoring.dagbag import load_dag, load_dagbag
from ledgerflow.engine.errors import BrokenDagFile

GOOD = """
from datetime import datetime
from ledgerflow import DAG, EmptyTask
{before}
with DAG("{dag_id}", schedule="@daily", start_date=datetime(2024, 1, 1)):
    EmptyTask("a")
"""


def dag_file(folder: Path, dag_id: str, before: str = "", name: str | None = None) -> Path:
    path = folder / (name or f"{dag_id}.py")
    path.write_text(GOOD.format(dag_id=dag_id, before=textwrap.dedent(before)))
    return path


def ledgerflow(*args: str, seconds: float = 60, **env: str) -> tuple[int, str, str]:
    """`python -m ledgerflow.cli ARGS` in a process of its own; a hang fails the test."""
    return finished(subprocess.Popen([sys.executable, "-m", "ledgerflow.cli", *args], env={**os.environ, **env},
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), seconds)


def listed(out: str) -> list[str]:
    return [d["dag_id"] for d in json.loads(out)]


def test_a_file_that_loops_forever_is_broken_once_the_import_timeout_passes(tmp_path):
    dag_file(tmp_path, "fine")
    loop = tmp_path / "loop.py"
    loop.write_text("from ledgerflow import DAG\nwhile True:\n    pass\n")
    code, out, err = ledgerflow("dags", "list", "-S", str(tmp_path), "-o", "json",
                                LEDGERFLOW_DAGBAG_IMPORT_TIMEOUT="1")
    assert (code, listed(out)) == (0, ["fine"])
    assert err == f"Broken DAG file {loop}: loading it took longer than 1 s (LEDGERFLOW_DAGBAG_IMPORT_TIMEOUT)\n"


def test_the_import_timeout_leaves_the_alarm_as_it_found_it(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_DAGBAG_IMPORT_TIMEOUT", "0.3")
    slow = dag_file(tmp_path, "slow", "import time\ntime.sleep(5)\n")
    started = time.monotonic()
    bag = load_dagbag(tmp_path)
    assert time.monotonic() - started < 3
    assert bag.dags == {} and "took longer than 0.3 s" in bag.errors[str(slow)]
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_import_timeout_of_0_means_no_limit_and_a_bad_one_is_refused(tmp_path, monkeypatch):
    dag_file(tmp_path, "slowish", "import time\ntime.sleep(0.5)\n")
    monkeypatch.setenv("LEDGERFLOW_DAGBAG_IMPORT_TIMEOUT", "0")
    assert list(load_dagbag(tmp_path).dags) == ["slowish"]
    monkeypatch.setenv("LEDGERFLOW_DAGBAG_IMPORT_TIMEOUT", "soon")
    result = cli("dags", "list", "-S", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == ("Error: LEDGERFLOW_DAGBAG_IMPORT_TIMEOUT must be a number of seconds "
                             "(0: no limit), not 'soon'\n")


def test_a_fifo_named_like_a_dag_file_is_skipped_not_read(tmp_path, database_url):
    dag_file(tmp_path, "fine")
    os.mkfifo(tmp_path / "pipe.py")
    code, out, err = ledgerflow("dags", "list", "-S", str(tmp_path), "-o", "json")
    assert (code, listed(out), err) == (0, ["fine"], "")
    code, out, err = ledgerflow("dags", "list-runs", "fine", "-S", str(tmp_path), "-s", "2024-01-01", "-o", "json")
    assert (code, out, err) == (0, "[]\n", "")
    result = cli("dags", "list", "-S", str(tmp_path / "pipe.py"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: DAG file {tmp_path / 'pipe.py'} is not a regular file\n"


def test_a_thread_a_dag_file_leaves_running_does_not_keep_the_command_alive(tmp_path):
    dag_file(tmp_path, "threaded", """
        import threading, time
        threading.Thread(target=time.sleep, args=(3600,)).start()
    """)
    started = time.monotonic()
    code, out, err = ledgerflow("dags", "list", "-S", str(tmp_path), "-o", "json")
    assert (code, listed(out), err) == (0, ["threaded"], "")
    assert time.monotonic() - started < 30


def test_os_exit_at_import_is_a_broken_file_not_the_end_of_the_command(tmp_path):
    dag_file(tmp_path, "fine")
    quits = tmp_path / "quits.py"
    quits.write_text("from ledgerflow import DAG\nimport os\nos._exit(0)\n")
    code, out, err = ledgerflow("dags", "list", "-S", str(tmp_path), "-o", "json")
    assert (code, listed(out)) == (0, ["fine"])
    assert err == f"Broken DAG file {quits}: it called os._exit(0) while loading\n"


def test_what_a_dag_file_prints_while_loading_goes_to_stderr_even_from_a_subprocess(tmp_path):
    dag_file(tmp_path, "chatty", """
        import subprocess
        print('hello from python')
        subprocess.run(['echo', 'hello from echo'])
    """)
    code, out, err = ledgerflow("dags", "list", "-S", str(tmp_path), "-o", "json")
    assert (code, listed(out)) == (0, ["chatty"])
    assert err == "hello from python\nhello from echo\n"


@pytest.mark.parametrize("command", [["dags", "list"], ["dags", "list-runs", "chatty", "-s", "2024-01-01"]])
def test_dash_o_json_prints_only_json_when_a_dag_file_prints(tmp_path, database_url, command):
    dag_file(tmp_path, "chatty", "print('loading chatty')\n")
    result = cli(*command, "-S", str(tmp_path), "-o", "json")
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)
    assert result.stderr == "loading chatty\n"


def test_a_dag_id_in_two_files_is_a_broken_dag_naming_both_and_no_command_picks_one(tmp_path, database_url):
    first = dag_file(tmp_path, "same", name="a_same.py")
    second = dag_file(tmp_path, "same", name="b_same.py")
    dag_file(tmp_path, "other")
    why = f"DAG 'same' is defined in both {first.resolve()} and {second.resolve()}"
    bag = load_dagbag(tmp_path)
    assert list(bag.dags) == ["other"] and bag.errors == {str(second): why}
    with pytest.raises(BrokenDagFile, match="defined in both"):
        load_dag(tmp_path, "same")
    result = cli("dags", "trigger", "same", "-S", str(tmp_path), "-e", "2024-01-02")
    assert (result.exit_code, result.stderr) == (2, f"Error: {why}\n")
    assert event_count(database_url) == 0
