"""What ledgerflow makes on disk is its owner's only: LEDGERFLOW_HOME and task log folders 0700, task logs
0600, directories it did not make never widened, and the embedded server's socket directory made safely
(a link or another user's directory in its place is refused, a directory of its own that is not private
is made again)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from dagfiles import backfill, cli, make_dags

from ledgerflow.engine.errors import DatabaseUnavailable
from ledgerflow.engine.infrastructure.private_paths import private_socket_dir, socket_dir_path


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.usefixtures("sequential_executor")
@pytest.mark.parametrize("executor", ["sequential", "local"])
def test_task_logs_are_0600_in_0700_folders_under_a_home_made_0700_below_a_parent_left_as_it_was(
        tmp_path, monkeypatch, executor):
    monkeypatch.setenv("LEDGERFLOW_EXECUTOR", executor)
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(0o750)
    home = parent / "deeper" / "home"
    monkeypatch.setenv("LEDGERFLOW_HOME", str(home))
    before = os.umask(0o022)  # the common default: files 0644 and folders 0755 unless made private
    try:
        dags = make_dags(tmp_path, "chain")
        done = backfill(dags, "chain", "-s", "2024-01-01", "-e", "2024-01-02", "-y")
    finally:
        os.umask(before)
    assert done.exit_code == 0, done.output
    logs = sorted((home / "logs").rglob("*.log"))
    assert len(logs) == 6
    assert {mode(p) for p in logs} == {0o600}
    assert {mode(p) for p in home.rglob("*") if p.is_dir()} == {0o700}  # logs, the try journal
    assert mode(home) == mode(home / "logs") == mode(parent / "deeper") == 0o700
    assert mode(parent) == 0o750


def test_a_symbolic_link_in_place_of_the_socket_directory_is_refused_in_one_line_and_nothing_starts(
        tmp_path, monkeypatch):
    monkeypatch.delenv("LEDGERFLOW_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    target = tmp_path / "attacker"
    target.mkdir()
    link = socket_dir_path(home.resolve())
    link.symlink_to(target)
    try:
        result = cli("db", "check")
    finally:
        link.unlink()
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert str(link) in line and "symbolic link" in line
    assert not (home / "pgdata").exists() and not list(target.iterdir())


def test_a_socket_directory_of_its_own_left_open_is_made_again_private_and_empty(tmp_path):
    home = tmp_path / "home"
    path = socket_dir_path(home)
    path.mkdir()
    path.chmod(0o777)
    (path / ".s.PGSQL.5432").write_text("planted")
    try:
        made = private_socket_dir(home, os.geteuid(), os.getegid())
        assert made == path and mode(path) == 0o700 and list(path.iterdir()) == []
        assert os.lstat(path).st_uid == os.geteuid()
    finally:
        for child in path.iterdir():
            child.unlink()
        path.rmdir()


@pytest.mark.skipif(os.geteuid() != 0, reason="making a directory another user's needs root")
def test_another_users_directory_in_place_of_the_socket_directory_is_refused(tmp_path):
    home = tmp_path / "home"
    path = socket_dir_path(home)
    path.mkdir(mode=0o700)
    os.chown(path, 65534, 65534)
    try:
        with pytest.raises(DatabaseUnavailable, match="owned by uid 65534"):
            private_socket_dir(home, os.geteuid(), os.getegid())
        assert path.is_dir()  # left alone
    finally:
        path.rmdir()
