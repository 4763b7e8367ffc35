"""The results table: one row per measurement, Mend next to its baseline where there is one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    what: str
    mend: float | None
    baseline: float | None
    goal: str
    met: bool | None


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if value >= 100 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def table(rows: list[Row]) -> str:
    lines = ["| measurement | Mend | bare Bolt | ratio | goal | met |", "|---|---:|---:|---:|---|:---:|"]
    for row in rows:
        ratio = f"{row.mend / row.baseline:.2f}×" if row.mend is not None and row.baseline else "—"
        met = "—" if row.met is None else "yes" if row.met else "**no**"
        lines.append(f"| {row.what} | {_number(row.mend)} | {_number(row.baseline)} | {ratio} | {row.goal} | {met} |")
    return "\n".join(lines)
