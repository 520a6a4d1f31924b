"""Loads DAG files from a folder or file, with a sha256 fingerprint per DAG's source.

As in Airflow, the DAG folder is on sys.path while its files load (and while
their tasks run, see `importable`), so helper modules beside the DAGs import.
ledgerflow itself lives only under the `ledgerflow` package, so a helper named
`engine.py` or `cli.py` there neither breaks it nor is shadowed by it.

Only regular files are read (a FIFO named `x.py` would block the read forever), and
each runs under import_guard: bounded in time, unable to end the process, its
prints on stderr. A dag_id defined in two files is a broken DAG naming both: no
command picks one of them silently.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ledgerflow.engine.authoring import dag as dag_module
from ledgerflow.engine.authoring import import_guard
from ledgerflow.engine.authoring.airflow import mode as airflow_mode
from ledgerflow.engine.authoring.airflow.finder import airflow_imports
from ledgerflow.engine.authoring.airflow_ignore import ignored
from ledgerflow.engine.authoring.dag import DAG
from ledgerflow.engine.errors import BrokenDagFile, DagNotFound, LedgerflowError
from ledgerflow.engine.infrastructure import settings


@dataclass
class DagBag:
    dags: dict[str, DAG] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    ambiguous: dict[str, str] = field(default_factory=dict)  # dag_id -> why: defined in more than one file

    def get(self, dag_id: str) -> DAG:
        if dag_id in self.ambiguous:
            raise BrokenDagFile(self.ambiguous[dag_id])
        if dag_id in self.dags:
            return self.dags[dag_id]
        if self.errors:
            path, error = next(iter(self.errors.items()))
            raise BrokenDagFile(f"DAG {dag_id!r} not found; broken DAG file {path}: {error}")
        raise DagNotFound(f"DAG {dag_id!r} not found in {self.folder_hint}")

    folder_hint: str = ""


@contextmanager
def importable(folder: Path) -> Iterator[None]:
    """The DAG folder first on sys.path; on leaving, its modules are dropped from sys.modules
    so the next load (another folder, or a changed helper) imports them afresh. Loaded DAGs
    keep working: their functions hold their modules' globals. Only the modules imported
    inside the block are looked at: a worker holding a thousand modules runs many tries."""
    entry = str(folder.resolve())
    before = set(sys.modules)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)
        inside = entry.rstrip("/") + "/"
        for name in sys.modules.keys() - before:
            if (getattr(sys.modules.get(name), "__file__", None) or "").startswith(inside):
                sys.modules.pop(name, None)


def folder_of(path: Path) -> Path:
    """A DAG file's folder when it is given alone."""
    return path.resolve().parent if path.is_file() else path.resolve()


def fingerprint_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _dag_files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    if folder.exists() and not folder.is_dir():
        raise DagNotFound(f"DAG file {folder} is not a regular file")
    if not folder.is_dir():
        raise DagNotFound(f"DAG folder {folder} does not exist")
    return sorted(p for p in folder.rglob("*.py") if not p.name.startswith(("_", ".")) and p.is_file()
                  and not ignored(p, folder))


def load_file(path: Path, folder: Path | None = None) -> list[DAG]:
    """Executes one DAG file and returns the DAGs it defines (sub-DAGs included).

    The caller has `folder` (default: the file's own) importable."""
    timeout = settings.dagbag_import_timeout()
    digest = fingerprint_of(path)
    module_name = f"ledgerflow_dag_{digest[:16]}_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    entered: list[DAG] = []
    dag_module._entered = entered
    airflow_mode.file_started()
    try:
        with import_guard.guarded(timeout), airflow_imports():
            spec.loader.exec_module(module)
    except (LedgerflowError, import_guard.Refused) as exc:
        raise BrokenDagFile(f"broken DAG file {path}: {exc}") from None
    except BaseException as exc:  # a DAG file may raise anything; report it, never crash
        if isinstance(exc, KeyboardInterrupt):
            raise
        detail = " ".join(str(exc).split())  # one line: the CLI reports it as one
        raise BrokenDagFile(f"broken DAG file {path}: {type(exc).__name__}: {detail}") from None
    finally:
        dag_module._entered = None
    found: list[DAG] = []
    for value in [*vars(module).values(), *entered]:
        if isinstance(value, DAG) and value not in found:
            found.append(value)
    for dag in list(found):
        for task in dag.tasks.values():
            sub = getattr(task, "subdag", None)
            if sub is not None and sub not in found:
                found.append(sub)
    for dag in found:
        dag.fileloc = str(path.resolve())
        dag.folder = str(folder or path.resolve().parent)
        dag.fingerprint = digest if dag.airflow_mode is None else f"{digest}+airflow{dag.airflow_mode}"
        try:
            dag.topological_order()
        except LedgerflowError as exc:
            raise BrokenDagFile(f"broken DAG file {path}: {exc}") from None
    return found


def load_dagbag(folder: Path, only: str | None = None) -> DagBag:
    """Loads every DAG file; with `only`, files that do not mention it are skipped."""
    bag = DagBag(folder_hint=str(folder))
    files = _dag_files(folder)
    if only is not None:
        stem = only.split(".")[0]
        mentioning = [p for p in files if stem in p.read_text(errors="replace")]
        files = mentioning or files
    root = folder_of(folder)
    with importable(root):
        loaded = [(path, _load_or_error(bag, path, root)) for path in files]
    if folder.is_dir():  # Airflow reads zip archives of DAG files; ledgerflow does not
        for archive in sorted(p for p in folder.rglob("*.zip") if p.is_file() and not ignored(p, folder)):
            bag.errors[str(archive)] = "zip DAG archives are not supported: unpack it into the DAG folder"
    homes: dict[str, str] = {}  # dag_id -> the first file that defines it
    for path, dags in loaded:
        for dag in dags:
            where = dag.fileloc or str(path)
            home = homes.setdefault(dag.dag_id, where)
            if home == where:
                bag.dags.setdefault(dag.dag_id, dag)
            else:  # neither file's DAG is used: a command must not run one of them by chance
                why = f"DAG {dag.dag_id!r} is defined in both {home} and {where}"
                bag.ambiguous.setdefault(dag.dag_id, why)
                bag.errors[str(path)] = why
    for dag_id in bag.ambiguous:
        bag.dags.pop(dag_id, None)
    return bag


def _load_or_error(bag: DagBag, path: Path, root: Path) -> list[DAG]:
    try:
        return load_file(path, root)
    except BrokenDagFile as exc:
        bag.errors[str(path)] = str(exc).split(": ", 1)[1]
        return []


def load_dag(folder: Path, dag_id: str) -> DAG:
    return load_dagbag(folder, only=dag_id).get(dag_id)
