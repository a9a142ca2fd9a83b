"""Inline SVG drawn by the app: the four RNN shapes, line charts, scatter maps and heatmaps (no plotting library)."""
from __future__ import annotations

import html
import math

import numpy as np

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
WIDTH, HEIGHT, MARGIN = 560, 300, 48
BOX = 34  # a diagram box's side


def _text(x, y, words, size=11, anchor="middle", colour="currentColor") -> str:  # the theme's text colour
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{colour}">'
            f'{html.escape(str(words))}</text>')


def _svg(width, height, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'style="max-width:{width}px" role="img" aria-label="{html.escape(label)}">{"".join(body)}</svg>')


def _box(x, y, kind: str, words: str) -> str:
    fill = {"input": "#cfe2ff", "rnn": "#c7f0c2", "output": "#ffd9b3"}[kind]
    return (f'<rect x="{x}" y="{y}" width="{BOX}" height="{BOX}" rx="5" fill="{fill}" stroke="#555"/>'
            + _text(x + BOX / 2, y + BOX / 2 + 4, words, 10, colour="#333"))


def _arrow(x1, y1, x2, y2) -> str:
    return (f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#555" stroke-width="1.5" '
            f'marker-end="url(#head)"/>')


SHAPES = {  # name: (inputs at steps, outputs at steps, steps)
    "one-to-one": ((0,), (0,), 1),
    "one-to-many": ((0,), (0, 1, 2, 3), 4),
    "many-to-one": ((0, 1, 2, 3), (3,), 4),
    "many-to-many": ((0, 1, 2, 3), (0, 1, 2, 3), 4),
}


def shape_diagram(shape: str, labels: dict[str, str], title: str = "") -> str:
    """The shape unrolled in time: inputs (blue, bottom) → recurrent state (green, middle; arrows carry it
    to the next step) → outputs (orange, top). `labels`: {"input", "rnn", "output"} words in the boxes;
    `title` (the shape's name by default) under it."""
    inputs, outputs, steps = SHAPES[shape]
    width, gap = 40 + steps * 70, 70
    body = ['<defs><marker id="head" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
            '<path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>']
    for step in range(steps):
        x = 20 + step * gap
        body.append(_box(x, 70, "rnn", labels["rnn"]))
        if step in inputs:
            body += [_box(x, 130, "input", labels["input"]), _arrow(x + BOX / 2, 130, x + BOX / 2, 106)]
        if step in outputs:
            body += [_box(x, 10, "output", labels["output"]), _arrow(x + BOX / 2, 70, x + BOX / 2, 46)]
        if step + 1 < steps:
            body.append(_arrow(x + BOX, 87, x + gap - 2, 87))
    title = title or shape
    body.append(_text(width / 2, 190, title, 13))
    return _svg(width, 200, body, title)


def _scale(values, low, high, lo_px, hi_px, log=False):
    values = np.log10(np.maximum(values, 1e-30)) if log else np.asarray(values, np.float64)
    low, high = (math.log10(max(low, 1e-30)), math.log10(max(high, 1e-30))) if log else (low, high)
    span = (high - low) or 1.0
    return lo_px + (values - low) / span * (hi_px - lo_px)


def line_chart(series: dict[str, list[float]], *, x_values=None, x_label="", y_label="", log_y=False,
               marks: dict[str, list[tuple[int, str]]] | None = None, title="") -> str:
    """Lines over a shared x (default 1, 2, …), a legend, axis labels and, per series, marked points
    (index, note), e.g. where early stopping stopped."""
    every = [v for values in series.values() for v in values if v == v]
    low, high = (min(every), max(every)) if every else (0.0, 1.0)
    longest = max((len(v) for v in series.values()), default=1)
    xs = np.asarray(x_values if x_values is not None else range(1, longest + 1), np.float64)
    body = [f'<rect x="{MARGIN}" y="{MARGIN / 2}" width="{WIDTH - 1.5 * MARGIN}" height="{HEIGHT - 1.5 * MARGIN}" '
            'fill="none" stroke="#999"/>', _text(WIDTH / 2, HEIGHT - 6, x_label), _text(WIDTH / 2, 14, title, 12),
            f'<text x="12" y="{HEIGHT / 2}" font-size="11" transform="rotate(-90 12 {HEIGHT / 2})" '
            f'text-anchor="middle">{html.escape(y_label)}</text>']
    for value in (low, high):
        body.append(_text(MARGIN - 4, _scale([value], low, high, HEIGHT - MARGIN, MARGIN / 2, log_y)[0] + 4,
                          f"{value:.2g}", 10, "end"))
    for value in (xs[0], xs[-1]):
        body.append(_text(_scale([value], xs[0], xs[-1], MARGIN, WIDTH - MARGIN / 2)[0], HEIGHT - MARGIN + 14,
                          f"{value:g}", 10))
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        px = _scale(xs[:len(values)], xs[0], xs[-1], MARGIN, WIDTH - MARGIN / 2)
        py = _scale(values, low, high, HEIGHT - MARGIN, MARGIN / 2, log_y)
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py))
        body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body.append(_text(MARGIN + 8, MARGIN / 2 + 14 + 14 * index, "— " + name, 11, "start", colour))
        for at, note in (marks or {}).get(name, []):
            if 0 <= at < len(values):
                body.append(f'<circle cx="{px[at]:.1f}" cy="{py[at]:.1f}" r="5" fill="none" stroke="{colour}" '
                            f'stroke-width="2"><title>{html.escape(note)}</title></circle>')
    return _svg(WIDTH, HEIGHT, body, title or y_label)


def scatter(points: list[tuple[str, float, float, str]], kinds: tuple[str, ...], *, labelled: int = 60,
            title="") -> str:
    """Points (label, x, y, kind) coloured by kind, the first `labelled` with their label, and a legend."""
    xs, ys = np.array([p[1] for p in points]), np.array([p[2] for p in points])
    px = _scale(xs, xs.min(), xs.max(), MARGIN, WIDTH - MARGIN / 2)
    py = _scale(ys, ys.min(), ys.max(), HEIGHT - MARGIN / 2, MARGIN)
    body = [_text(WIDTH / 2, 14, title, 12)]
    for index, ((label, _, _, kind), x, y) in enumerate(zip(points, px, py)):
        colour = PALETTE[kinds.index(kind) % len(PALETTE)]
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{html.escape(label)}</title>'
                    '</circle>')
        if index < labelled:
            body.append(_text(x + 4, y - 3, label.strip() or "␣", 9, "start", colour))
    for index, kind in enumerate(kinds):
        body.append(_text(WIDTH - 90, 30 + 14 * index, "● " + kind, 11, "start", PALETTE[index % len(PALETTE)]))
    return _svg(WIDTH, HEIGHT, body, title)


def heatmap(values: np.ndarray, row_labels: list[str], column_labels: list[str], *, title="") -> str:
    """values (rows, columns) in [-1, 1] as cells from blue (−1) through white to red (+1)."""
    cell = 14
    left, top = 70, 60
    width, height = left + cell * values.shape[1] + 10, top + cell * values.shape[0] + 10
    body = [_text(width / 2, 14, title, 12)]
    for column, label in enumerate(column_labels):
        x = left + column * cell + cell / 2
        body.append(f'<text x="{x:.1f}" y="{top - 4}" font-size="10" transform="rotate(-60 {x:.1f} {top - 4})">'
                    f'{html.escape(label)}</text>')
    for row, label in enumerate(row_labels):
        body.append(_text(left - 4, top + row * cell + 11, label, 9, "end"))
        for column, value in enumerate(values[row]):
            v = float(np.clip(value, -1, 1))
            red, blue = (255, int(255 * (1 - v))) if v >= 0 else (int(255 * (1 + v)), 255)
            green = int(255 * (1 - abs(v)))
            body.append(f'<rect x="{left + column * cell}" y="{top + row * cell}" width="{cell}" height="{cell}" '
                        f'fill="rgb({red if v >= 0 else red},{green},{blue if v < 0 else blue})">'
                        f'<title>{html.escape(label)} · {html.escape(column_labels[column])}: {v:+.2f}</title></rect>')
    return _svg(width, height, body, title)
