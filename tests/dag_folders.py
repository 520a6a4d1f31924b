"""A test's DAG folder and state directory: writing DAG files, failure switches, the executions log.

The DAG sources themselves are in dag_sources.py.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from dag_sources import DAGS, PRELUDE, bash_work


@dataclass
class Dags:
    """A DAG folder and the state directory its DAG files report to."""

    folder: Path
    state: Path

    def write(self, name: str, body: str | None = None) -> Path:
        """Writes DAG file `<name>.py` after the PRELUDE.

        Without a body it is DAGS[name], a template formatted with the state directory;
        a given body is plain source, written as it is.
        """
        source = PRELUDE.format(state=str(self.state))
        source += f"\nBASH_WORK = {bash_work(self.state)!r}\n"
        source += textwrap.dedent(DAGS[name].format(state=self.state) if body is None else body)
        path = self.folder / f"{name}.py"
        path.write_text(source)
        return path

    def fail(self, task_id: str, ds: str) -> None:
        (self.state / f"fail__{task_id}__{ds}").touch()

    def heal(self, task_id: str, ds: str) -> None:
        (self.state / f"fail__{task_id}__{ds}").unlink(missing_ok=True)

    def lines(self) -> list[str]:
        log = self.state / "executions.log"
        return log.read_text().splitlines() if log.exists() else []

    def executions(self) -> list[tuple[str, str]]:
        """(task_id, ds) per execution, in order."""
        return [tuple(line.split(" ", 1)) for line in self.lines()]  # type: ignore[misc]

    def counts(self) -> Counter:
        return Counter(self.lines())

    def forget(self) -> None:
        """Empties the executions log."""
        (self.state / "executions.log").unlink(missing_ok=True)


def make_dags(tmp_path: Path, *names: str, **bodies: str) -> Dags:
    """A DAG folder holding DAGS[name] for each name, and `<key>.py` for each key=body (plain source)."""
    dags = Dags(tmp_path / "dags", tmp_path / "state")
    dags.folder.mkdir(parents=True, exist_ok=True)
    dags.state.mkdir(parents=True, exist_ok=True)
    for name in names:
        dags.write(name)
    for name, body in bodies.items():
        dags.write(name, body)
    return dags


def spans(lines: list[str]) -> list[tuple[float, float]]:
    """(start, end) instants of each `timed` execution, from its start and end lines."""
    starts, ends = {}, {}
    for line in lines:
        kind, task_id, ds, at = line.split(" ")
        (starts if kind == "start" else ends)[task_id, ds] = float(at)
    return [(starts[k], ends[k]) for k in starts if k in ends]


def most_at_once(lines: list[str]) -> int:
    """The largest number of `timed` executions that overlapped in time."""
    points = sorted([(a, 1) for a, _ in spans(lines)] + [(b, -1) for _, b in spans(lines)], key=lambda p: (p[0], p[1]))
    level = peak = 0
    for _, step in points:
        level += step
        peak = max(peak, level)
    return peak
