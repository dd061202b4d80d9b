"""Benchmark rows and the table they print."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Row:
    """One measured figure, with the baseline it is compared to."""

    section: str
    what: str
    value: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    target: str = ""
    met: bool | None = None
    lower_is_better: bool = False

    @property
    def ratio(self) -> str:
        """Return value / baseline (baseline / value for times), as `N.NNx`."""
        if not self.baseline_value or not self.value:
            return ""
        ratio = self.baseline_value / self.value if self.lower_is_better else self.value / self.baseline_value
        return f"{ratio:.2f}x"


def fmt(value: float, unit: str) -> str:
    """Format a figure for the table."""
    if unit in {"msg/s", "req/s", "jobs/s", "rows/s"}:
        return f"{value:,.0f} {unit}"
    return f"{value:,.3f} {unit}" if value < 10 else f"{value:,.1f} {unit}"


def render(rows: list[Row]) -> str:
    """Render rows as a Markdown table."""
    lines = ["| section | measured | figure | baseline (same run) | ratio | target | met |",
             "|---|---|---:|---|---:|---|---|"]
    for row in rows:
        baseline = f"{row.baseline}: {fmt(row.baseline_value, row.unit)}" if row.baseline_value else row.baseline
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.section} | {row.what} | {fmt(row.value, row.unit)} | {baseline} | {row.ratio} | "
                     f"{row.target} | {met} |")
    return "\n".join(lines)


#: Where `make bench` writes its tables.
OUT = Path("var/bench")


def publish(name: str, table: str) -> Path:
    """Print a table and write it to var/bench/NAME; return the file's path."""
    print(table)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    path.write_text(table + "\n")
    return path
