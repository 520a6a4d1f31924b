"""Serves `airflow.*` imports while DAG files load and tasks run, from ledgerflow's own modules.

A meta-path finder put first on sys.meta_path, so it wins whether or not Airflow is installed;
while it is active, modules named `airflow...` found in sys.modules are set aside and put back
after. A module it does not provide is refused with one line naming it (see `unsupported`),
and so is a name a provided module does not have.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterator
from typing import Any

from ledgerflow.engine.authoring.airflow import mode
from ledgerflow.engine.authoring.airflow.unsupported import unsupported_import

_built: dict[str, types.ModuleType] = {}
_depth = 0
_set_aside: dict[str, types.ModuleType] = {}
_before: set[str] = set()


def _is_airflow(name: str) -> bool:
    return name == "airflow" or name.startswith("airflow.")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not _is_airflow(fullname):
            return None
        from ledgerflow.engine.authoring.airflow.modules import is_package, provides

        if not provides(fullname):
            raise unsupported_import(fullname)
        if fullname == "airflow.sdk" or fullname.startswith("airflow.sdk."):
            mode.sdk_imported()
        return importlib.machinery.ModuleSpec(fullname, self, is_package=is_package(fullname))

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        from ledgerflow.engine.authoring.airflow.modules import build

        if spec.name not in _built:
            _built[spec.name] = build(spec.name)
        return _built[spec.name]

    def exec_module(self, module: types.ModuleType) -> None:
        """Built complete by create_module."""


_FINDER = _Finder()


@contextlib.contextmanager
def airflow_imports() -> Iterator[None]:
    """`import airflow...` is served by ledgerflow inside this block (re-entrant)."""
    global _depth, _before
    if _depth == 0:
        if "airflow" in sys.modules:  # a submodule is imported with its package: none without it
            for name in [n for n in sys.modules if _is_airflow(n)]:
                _set_aside[name] = sys.modules.pop(name)
        _before = set(sys.modules)  # so leaving looks at what was imported inside only
        sys.meta_path.insert(0, _FINDER)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(_FINDER)
            for name in [n for n in sys.modules.keys() - _before if _is_airflow(n)]:
                del sys.modules[name]
            sys.modules.update(_set_aside)
            _set_aside.clear()
