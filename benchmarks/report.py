"""One benchmark result table: its rows, the machine it ran on, Markdown and JSON output."""
from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
LOADAVG = Path("/proc/loadavg")
TIMES = "×"  # the unit of a ratio, written straight after the number
HEADER = "| measure | method | figure | budget | ratio to baseline | met? |\n|---|---|---|---|---|---|"


@dataclass
class Row:
    """One measured figure, with its budget and, where there is one, its ratio to a baseline."""

    measure: str  # what is measured, e.g. "generation, batch 1"
    method: str  # how, e.g. "fast NumPy step, served path"
    value: float | None  # None: not measured (see `note`)
    unit: str  # "tokens/s", "ms", "s", "GB", …
    budget: str = ""  # e.g. "≥ 2,000 tokens/s"; "" for a baseline
    met: bool | None = None  # None: no budget, or not measured
    ratio: float | None = None  # value ÷ the baseline's value
    note: str = ""  # why it is not measured, or what the figure leaves out

    def cells(self, footnote: str = "") -> list[str]:
        """The row's table cells, numbers rounded for reading; `footnote` marks the method."""
        space = "" if self.unit == TIMES else " "
        figure = f"{_round(self.value)}{space}{self.unit}" if self.value is not None else "not measured"
        ratio = f"{self.ratio:.2f}×" if self.ratio is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[self.met]
        return [self.measure, self.method + footnote, figure, self.budget, ratio, met]


def at_least(value: float | None, budget: float) -> bool | None:
    return None if value is None else value >= budget


def at_most(value: float | None, budget: float) -> bool | None:
    return None if value is None else value <= budget


def _round(value: float) -> str:
    """Three significant figures, with thousands separators for large numbers."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


@dataclass
class Machine:
    """Where and when the benchmark ran (the figures mean little without it)."""

    cpu: str
    cores: int
    load_average: str  # 1, 5 and 15-minute load when the run began: other work shares the cores
    python: str
    date: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @classmethod
    def here(cls) -> "Machine":
        return cls(cpu=_cpu_model(), cores=os.cpu_count() or 0, load_average=_load_average(),
                   python=platform.python_version())

    def markdown(self) -> str:
        return (f"Machine: {self.cpu}, {self.cores} cores, load average {self.load_average} at the start; "
                f"Python {self.python}; {self.date}.")


def _cpu_model() -> str:
    try:
        lines = CPUINFO.read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown CPU"
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else "unknown CPU"


def _load_average() -> str:
    try:
        return " ".join(LOADAVG.read_text().split()[:3])
    except OSError:
        return "unknown"


def markdown(machine: Machine, rows: list[Row]) -> str:
    """The whole report: the machine line, one table of every row, then the rows' notes as footnotes."""
    notes: list[str] = []  # distinct notes, numbered in order of first use
    lines = [machine.markdown(), "", HEADER]
    for row in rows:
        footnote = ""
        if row.note:
            if row.note not in notes:
                notes.append(row.note)
            footnote = f" [{notes.index(row.note) + 1}]"
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row.cells(footnote)) + " |")
    if notes:
        lines.append("")
        lines += [f"[{number}] {note}  " for number, note in enumerate(notes, start=1)]
    return "\n".join(lines)


def write_json(path: Path, machine: Machine, rows: list[Row], settings: dict) -> None:
    """The same results as data, for pasting into the README or comparing runs."""
    data = {"machine": asdict(machine), "settings": settings, "rows": [asdict(row) for row in rows]}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
