"""The embedded PostgreSQL is its owner's only, whatever LEDGERFLOW_HOME's length: a private socket
directory, no TCP listener, LEDGERFLOW_HOME and its parents never widened, and the commands connect as
a role that owns nothing (so it cannot disable the append-only triggers).

One real server, started by the first command as a user would, serves the module; it is stopped at the end.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from dagfiles import REPO, cli

from ledgerflow.engine.infrastructure import embedded
from ledgerflow.engine.infrastructure.database import resolve_url
from ledgerflow.engine.infrastructure.postmaster import read_pid_file
from ledgerflow.engine.infrastructure.private_paths import socket_dir_path

EXAMPLES = str(REPO / "examples" / "dags")


@pytest.fixture(scope="module")
def long_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A LEDGERFLOW_HOME of about 100 characters, not made yet, below a parent that is private (0700)."""
    parent = tmp_path_factory.mktemp("private-parent")
    parent.chmod(0o700)
    home = parent / ("h" * max(1, 100 - len(str(parent)) - 6)) / "home"
    yield home
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEDGERFLOW_HOME", str(home))
        patch.delenv("LEDGERFLOW_DATABASE_URL", raising=False)
        cli("db", "stop")
    socket_dir_path(home).rmdir()  # empty once the server is gone


@pytest.fixture
def server(long_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The module's embedded server (started by the first command), with this test's environment pointing at it."""
    monkeypatch.setenv("LEDGERFLOW_HOME", str(long_home))
    monkeypatch.delenv("LEDGERFLOW_DATABASE_URL", raising=False)
    if not (long_home / "pgdata" / "postmaster.pid").exists():
        started = cli("dags", "backfill", "example_chain", "-S", EXAMPLES, "-s", "2024-01-01", "-e", "2024-01-02",
                      "-y")
        assert started.exit_code == 0, started.output
    return long_home


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def superuser_url(home: Path) -> str:
    pid_file = read_pid_file(home / "pgdata")
    assert pid_file is not None
    return f"postgresql://postgres@/postgres?host={pid_file.socket_dir}&port={pid_file.port}"


def test_the_socket_of_a_100_character_home_is_in_a_short_private_directory_and_nothing_listens_on_tcp(server):
    assert len(str(server)) >= 100
    pid_file = read_pid_file(server / "pgdata")
    assert pid_file is not None
    sockets = Path(pid_file.socket_dir)
    assert len(str(sockets)) < 40 and not sockets.is_relative_to(server)
    found = os.lstat(sockets)
    assert stat.S_ISDIR(found.st_mode) and mode(sockets) == 0o700
    assert found.st_uid == embedded.server_account().uid
    with psycopg.connect(superuser_url(server)) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
    if shutil.which("ss"):
        listening = subprocess.run(["ss", "-lntp"], capture_output=True, text=True).stdout
        assert f"pid={pid_file.pid}," not in listening


@pytest.mark.skipif(os.geteuid() != 0, reason="needs another account to try from")
def test_another_local_user_cannot_reach_the_socket(server):
    pid_file = read_pid_file(server / "pgdata")
    assert pid_file is not None
    nobody = pwd.getpwnam("nobody")
    tried = subprocess.run(
        [str(embedded._bin_dir() / "psql"), "-w", "-X", "-c", "SELECT 1",
         f"host={pid_file.socket_dir} port={pid_file.port} user=postgres dbname=postgres"],
        user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[], capture_output=True, text=True, cwd="/",
        env={"PATH": "/usr/bin:/bin"})
    assert tried.returncode != 0 and "Permission denied" in tried.stderr, tried.stderr


def test_ledgerflow_home_stays_0700_and_its_parents_are_not_widened(server):
    assert mode(server) == 0o700
    assert mode(server.parent) == 0o700 and mode(server.parent.parent) == 0o700
    assert mode(server / "pgdata") == 0o700
    logs = sorted((server / "logs").rglob("*.log"))
    assert logs and {mode(p) for p in logs} == {0o600}
    assert {mode(p) for p in (server / "logs").rglob("*") if p.is_dir()} == {0o700}


def test_the_commands_connect_as_the_app_role_which_cannot_disable_the_triggers_or_rewrite_events(server):
    url = resolve_url()
    with psycopg.connect(url, autocommit=True) as conn:
        me, superuser = conn.execute(
            "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert (me, superuser) == ("ledgerflow_app", False)
        assert conn.execute("SELECT count(*) FROM ledgerflow_events").fetchone()[0] > 0  # the backfill's
        for sql in ("ALTER TABLE ledgerflow_events DISABLE TRIGGER USER",
                    "DROP TRIGGER ledgerflow_events_no_update ON ledgerflow_events",
                    "UPDATE ledgerflow_events SET topic = 'forged'",
                    "DELETE FROM ledgerflow_events", "TRUNCATE ledgerflow_events", "DELETE FROM ledgerflow_chain",
                    "SET session_replication_role = replica", "DROP TABLE ledgerflow_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    checked = cli("db", "check")
    assert checked.exit_code == 0, checked.output
    assert checked.stderr == ""  # no warning: not a superuser, not the owner
    rebuilt = cli("projections", "rebuild", "-y")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert cli("audit", "verify").exit_code == 0


def test_a_server_of_the_home_started_with_its_socket_elsewhere_is_started_again_privately(server, tmp_path):
    """As an earlier version started it: its socket in a world-writable directory. The next command restarts it."""
    assert cli("db", "stop").exit_code == 0
    pgdata = server / "pgdata"
    account = embedded.server_account()
    shared = Path(tempfile.mkdtemp(prefix="lf-shared-"))
    shared.chmod(0o777)
    try:
        embedded._pg_ctl(pgdata, account, "-l", f"{embedded._data_arg(pgdata, account)}/log",
                         "-o", f"-h '' -k {shared}", "start")
    finally:
        old = read_pid_file(pgdata)
    assert old is not None and old.socket_dir == str(shared)
    listed = cli("dags", "list-runs", "example_chain", "-S", EXAMPLES)
    assert listed.exit_code == 0, listed.output
    now = read_pid_file(pgdata)
    assert now is not None and now.pid != old.pid
    assert mode(Path(now.socket_dir)) == 0o700 and now.socket_dir.startswith("/tmp/ledgerflow-")
    assert not list(shared.iterdir())  # the old server is gone, and its socket with it
    shared.rmdir()
