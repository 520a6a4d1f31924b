"""What comparing the views with a fresh fold of the events found (`audit verify`).

Discrepancies are counted by kind (a view and a column, or a missing or extra row), each
kind keeping its first row as the example, so a forgery of every row is one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Discrepancy:
    """One way a view differs from the fold of the events, at one row."""

    view: str
    key: str  # the row: dag, run and task, the audit entry's seq, the pool's name...
    kind: str  # the column that differs, or "missing row" / "extra row"
    detail: str


@dataclass
class ViewCheck:
    """The views compared with a fresh fold of the events up to their position."""

    position: int
    head: int
    rows: dict[str, int] = field(default_factory=dict)  # rows the fold gives, by view
    kinds: dict[tuple[str, str], tuple[Discrepancy, int]] = field(default_factory=dict)

    def add(self, found: Discrepancy) -> None:
        """Counts it under its kind (view and column), keeping the first one as the example."""
        first, count = self.kinds.get((found.view, found.kind), (found, 0))
        self.kinds[(found.view, found.kind)] = (first, count + 1)

    @property
    def intact(self) -> bool:
        return not self.kinds

    def lines(self, shown: int = 10) -> list[str]:
        """One line per kind of discrepancy, at most `shown`, then a count of the rest."""
        out = []
        for first, count in list(self.kinds.values())[:shown]:
            more = f" (and {count - 1} more like it)" if count > 1 else ""
            out.append(f"{first.view} {first.key}: {first.detail}{more}")
        rest = list(self.kinds.values())[shown:]
        if rest:
            out.append(f"and {len(rest)} more kinds of discrepancy, in {sum(c for _, c in rest)} "
                       f"rows")
        return out
