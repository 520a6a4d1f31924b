"""Figures as they are measured: printed at once, then as a table and one JSON line at the end."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class NotAvailable(Exception):
    """The capability a scenario measures is not built yet."""


@dataclass
class Figure:
    scenario: str
    name: str
    value: float | None
    unit: str
    target: str
    ok: bool | None
    reference: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "not available"
        if self.unit == "s":
            return f"{self.value:.3f} s"
        if self.unit == "ms":
            return f"{self.value:.1f} ms"
        if self.unit == "MB":
            return f"{self.value:.0f} MB"
        if self.unit == "%":
            return f"{self.value:.1f} %"
        if self.unit == "x":
            return f"{self.value:.2f} x"
        return f"{self.value:,.0f} {self.unit}"

    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "-"}[self.ok]


@dataclass
class Report:
    quick: bool
    figures: list[Figure] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    not_available: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, scenario: str, name: str, value: float | None, unit: str, target: str,
            ok: bool | None, reference: str = "") -> None:
        fig = Figure(scenario, name, value, unit, target, ok, reference)
        self.figures.append(fig)
        print(f"  {name}: {fig.shown()}  [{target}] {fig.verdict()}  ref: {reference}", flush=True)


def at_most(value: float, limit: float, quick: bool, scale: float = 1.0) -> tuple[str, bool | None]:
    """A time target. A --quick run at a smaller size is not judged: fixed costs dominate it."""
    shown = f"<= {limit:.2f} s" if limit >= 1 else f"<= {limit * 1000:.0f} ms"
    if quick and scale != 1.0:
        return f"{shown} at full size", None
    return shown, value <= limit


def print_table(report: Report) -> None:
    head = ("scenario", "figure", "value", "target", "verdict", "reference (same run)")
    rows = [(f.scenario, f.name, f.shown(), f.target, f.verdict(), f.reference)
            for f in report.figures]
    rows += [(name, "-", "not available", "-", "-", why)
             for name, why in report.not_available.items()]
    rows += [(name, "-", "ERROR", "-", "-", why.splitlines()[-1][:120])
             for name, why in report.errors.items()]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(5)]
    line = "  ".join("-" * w for w in widths) + "  " + "-" * 20
    print()
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=False)) + "  " + head[5])
    print(line)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[5])
    for key, value in report.info.items():
        print(f"note: {key}: {value}")


def summary_line(report: Report, seconds: float) -> str:
    """The figures as one JSON line, for a machine to compare runs."""
    return json.dumps({
        "mode": "quick" if report.quick else "full",
        "seconds": round(seconds, 1),
        "figures": {
            f.name: {"value": None if f.value is None else round(f.value, 4), "unit": f.unit,
                     "target": f.target, "pass": f.ok, "reference": f.reference}
            for f in report.figures
        },
        "not_available": sorted(report.not_available),
        "errors": sorted(report.errors),
    })
