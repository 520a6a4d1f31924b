"""`db stop` signals only the postmaster of LEDGERFLOW_HOME/pgdata, whatever a stale postmaster.pid names."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagfiles import cli, wait_for


@pytest.fixture
def pgdata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The embedded server's data directory (made before), with no LEDGERFLOW_DATABASE_URL to say another."""
    monkeypatch.delenv("LEDGERFLOW_DATABASE_URL", raising=False)
    folder = tmp_path / "home" / "pgdata"
    folder.mkdir(parents=True)
    (folder / "PG_VERSION").write_text("17\n")
    return folder


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts, ended by their own handles afterwards."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def sleeper(processes: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """`sleep 60`: a live process unrelated to any server."""
    proc = subprocess.Popen(["sleep", "60"])
    processes.append(proc)
    return proc


def fake_server(processes: list[subprocess.Popen[bytes]], cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    """A process that looks like a postmaster: its program is named postgres, it works in `cwd`."""
    proc = subprocess.Popen(["bash", "-c", 'exec -a postgres "$0" "$@"', sys.executable, "-c",
                             "import time; time.sleep(60)", *args], cwd=cwd)
    processes.append(proc)
    wait_for(lambda: Path(f"/proc/{proc.pid}/cmdline").read_bytes().startswith(b"postgres\0"),
             what="the fake server's command line")
    return proc


def write_pid_file(pgdata: Path, pid: int) -> str:
    text = f"{pid}\n{pgdata}\n1700000000\n5432\n{pgdata}\n\n  1234  5678\nready   \n"
    (pgdata / "postmaster.pid").write_text(text)
    return text


def test_a_pid_file_naming_an_unrelated_live_process_is_reported_stale_and_that_process_survives(
    pgdata, processes
):
    unrelated = sleeper(processes)
    text = write_pid_file(pgdata, unrelated.pid)
    began = time.monotonic()
    result = cli("db", "stop")
    assert time.monotonic() - began < 5
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1
    assert "not running" in result.stdout and "stale" in result.stdout
    assert f"PID {unrelated.pid} is not a postgres server" in result.stdout
    time.sleep(0.2)
    assert unrelated.poll() is None  # never signalled
    assert (pgdata / "postmaster.pid").read_text() == text  # nothing written


def test_a_postgres_process_of_another_data_directory_is_never_signalled(pgdata, processes, tmp_path):
    other = tmp_path / "other-pgdata"
    other.mkdir()
    server = fake_server(processes, other, "-D", str(other))
    write_pid_file(pgdata, server.pid)
    result = cli("db", "stop")
    assert result.exit_code == 0, result.output
    assert "is a postgres server of another data directory" in result.stdout
    time.sleep(0.2)
    assert server.poll() is None


def test_a_pid_file_whose_process_is_gone_says_not_running_at_once(pgdata):
    gone = subprocess.Popen(["true"])
    gone.wait()
    write_pid_file(pgdata, gone.pid)
    began = time.monotonic()
    result = cli("db", "stop")
    assert time.monotonic() - began < 5
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1 and "not running" in result.stdout
    assert f"PID {gone.pid} is gone" in result.stdout


@pytest.mark.parametrize("named_by", ["working directory", "-D"])
def test_the_postmaster_of_this_data_directory_is_the_one_signalled(pgdata, processes, tmp_path, named_by):
    if named_by == "-D":
        postmaster = fake_server(processes, tmp_path, "-D", str(pgdata))
    else:
        postmaster = fake_server(processes, pgdata)
    write_pid_file(pgdata, postmaster.pid)
    result = cli("db", "stop")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Embedded PostgreSQL stopped.\n"
    assert postmaster.wait(timeout=5) != 0  # ended by the fast-shutdown signal


def test_a_command_refuses_to_start_the_server_over_a_pid_file_an_unrelated_process_holds(
    pgdata, processes
):
    unrelated = sleeper(processes)
    write_pid_file(pgdata, unrelated.pid)
    result = cli("db", "check")
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "cannot start the embedded PostgreSQL" in result.stderr and "stale" in result.stderr
    assert unrelated.poll() is None
    assert sorted(p.name for p in pgdata.iterdir()) == ["PG_VERSION", "postmaster.pid"]  # none started
