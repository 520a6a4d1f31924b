"""`.airflowignore`: DAG-folder paths that are not DAG files.

Each ignore file applies to its own folder and below; `#` starts a comment. The syntax is
Airflow 2's regexp (patterns searched in the path relative to the DAG folder; an invalid one
is skipped) unless AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX=glob or LEDGERFLOW_AIRFLOW_COMPAT=3
choose Airflow 3's glob (gitignore wildmatch relative to the ignore file's folder, `!`
re-includes, the last match wins). A matched folder's files are all ignored.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import pathspec

IGNORE_FILE = ".airflowignore"


def _syntax() -> str:
    configured = os.environ.get("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", "").strip().lower()
    if configured in ("glob", "regexp"):
        return configured
    return "glob" if os.environ.get("LEDGERFLOW_AIRFLOW_COMPAT", "").strip() == "3" else "regexp"


def _lines(ignore_file: Path) -> list[str]:
    out = []
    for line in ignore_file.read_text(errors="replace").splitlines():
        line = line.split("#", 1)[0].rstrip() if _syntax() == "regexp" or line.lstrip().startswith("#") else line
        if line.strip():
            out.append(line.strip())
    return out


@lru_cache(maxsize=256)
def _rules(ignore_file: Path, mtime: float, syntax: str) -> tuple[list[re.Pattern[str]], pathspec.PathSpec | None]:
    lines = _lines(ignore_file)
    if syntax == "glob":
        return [], pathspec.GitIgnoreSpec.from_lines(lines)
    patterns = []
    for line in lines:
        try:
            patterns.append(re.compile(line))
        except re.error:
            continue  # as Airflow: an invalid pattern is skipped
    return patterns, None


def ignored(path: Path, root: Path) -> bool:
    """Whether `path` (a file under `root`) is left out by an ignore file on its way down from root."""
    if not root.is_dir():
        return False
    relative = path.relative_to(root)
    syntax = _syntax()
    folder = root
    for depth in range(len(relative.parts)):
        ignore_file = folder / IGNORE_FILE
        if ignore_file.is_file():
            regexps, spec = _rules(ignore_file, ignore_file.stat().st_mtime, syntax)
            below = path.relative_to(folder)
            if spec is not None:
                candidates = [Path(*below.parts[:i]).as_posix() + "/" for i in range(1, len(below.parts))]
                if any(spec.match_file(c) for c in candidates) or spec.match_file(below.as_posix()):
                    return True
            elif any(rx.search(relative.as_posix()) for rx in regexps):
                return True
        if depth < len(relative.parts) - 1:
            folder = folder / relative.parts[depth]
    return False
