"""DAG files loaded once for a long-lived process (the HTTP API), again as soon as any changes.

A command loads its DAG files once anyway; a server answering many reads would execute
every file on every request. The bag is kept while the DAG folder's Python files (helper
modules beside the DAGs included) keep their paths, sizes and modification times.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ledgerflow.engine.authoring.dagbag import DagBag, load_dagbag

Stamp = tuple[tuple[str, int, int], ...]


def _stamp(folder: Path) -> Stamp:
    if folder.is_file():
        files = [folder]
    else:
        files = sorted(folder.rglob("*.py")) if folder.is_dir() else []
    stamps = []
    for path in files:
        try:
            st = path.stat()
        except OSError:  # removed while listed: the next look sees the folder without it
            continue
        stamps.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(stamps)


class DagFileCache:
    """The DagBag of each folder, reloaded when its stamp changes."""

    def __init__(self) -> None:
        self._bags: dict[Path, tuple[Stamp, DagBag]] = {}
        self._lock = threading.Lock()

    def bag(self, folder: Path) -> DagBag:
        stamp = _stamp(folder)
        with self._lock:
            kept = self._bags.get(folder)
            if kept is not None and kept[0] == stamp:
                return kept[1]
        bag = load_dagbag(folder)  # outside the lock: a slow DAG file does not hold up other readers
        if bag.errors:
            return bag  # a broken file is tried again next time, as a command would
        with self._lock:
            self._bags[folder] = (stamp, bag)
        return bag
