"""Directories and files only their owner reaches: LEDGERFLOW_HOME and what is in it, and the server's socket.

Task logs hold whatever tasks print (credentials included), and the embedded server
trusts whoever reaches its socket, so ledgerflow makes its own directories mode 0700
and its files 0600, and never widens a directory someone else made.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path
from typing import IO

from ledgerflow.engine.errors import DatabaseUnavailable

SOCKET_ROOT = Path("/tmp")  # short: a socket path is at most ~100 bytes, whatever LEDGERFLOW_HOME's length


def private_dir(path: Path) -> Path:
    """Makes `path` and its missing parents, each mode 0700; existing directories are left as they are."""
    missing = []
    folder = path
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:  # made meanwhile by another process
            pass
    return path


def open_private(path: Path, mode: str = "w", **kwargs: object) -> IO[str]:
    """open() for text that only its owner may read (0600, also when the file was there before)."""
    return open(path, mode, opener=_owner_only, **kwargs)  # type: ignore[call-overload]


def _owner_only(path: str, flags: int) -> int:
    fd = os.open(path, flags | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def socket_dir_path(home: Path) -> Path:
    """The socket directory of the embedded server of `home`: short, and named after that home."""
    digest = hashlib.sha256(os.fsencode(home)).hexdigest()[:16]
    return SOCKET_ROOT / f"ledgerflow-{digest}"


def private_socket_dir(home: Path, uid: int, gid: int) -> Path:
    """The socket directory, mode 0700 and owned by `uid` (the server's account).

    One found there that is not exactly that is made again when it is ledgerflow's own (whatever
    was put into it while it was open is gone), and refused when it is a link or another user's.
    """
    path = socket_dir_path(home)
    for _ in range(2):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        else:
            os.chmod(path, 0o700)  # whatever the umask
            if os.geteuid() != uid:
                os.chown(path, uid, gid)
        found = os.lstat(path)
        if stat.S_ISDIR(found.st_mode) and found.st_uid == uid and stat.S_IMODE(found.st_mode) == 0o700:
            return path
        if stat.S_ISLNK(found.st_mode):
            why = "a symbolic link"
        elif not stat.S_ISDIR(found.st_mode):
            why = "not a directory"
        elif found.st_uid not in (uid, os.geteuid()):
            why = f"owned by uid {found.st_uid}"
        else:
            shutil.rmtree(path)
            continue
        raise DatabaseUnavailable(f"the embedded PostgreSQL's socket directory {path} is {why}; "
                                  "remove it to let ledgerflow make it")
    raise DatabaseUnavailable(f"the embedded PostgreSQL's socket directory {path} cannot be made private "
                              f"(mode 0700)")
