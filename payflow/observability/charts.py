"""Small server-side SVG charts for the operator dashboard: no JavaScript, no CDN.

Every chart is an ``<svg class="chart">`` with a title, axes, gridlines, a
legend and its marks (``class="mark"``); an empty chart says so in place of
marks and carries ``data-empty="true"``. All text is escaped.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 560, 230
LEFT, RIGHT, TOP, BOTTOM = 60, 14, 34, 28
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
# Presentation attributes, so a chart reads the same saved on its own; the admin's CSS may restyle.
TITLE = 'class="chart-title" font-size="13" font-weight="600" fill="#333"'
LEGEND = 'class="chart-legend" font-size="10.5" fill="#666"'
TICK = 'class="chart-tick" font-size="10.5" fill="#666"'
GRID = 'class="chart-grid" stroke="#e5e5e5"'
AXIS = 'class="chart-axis" stroke="#999"'


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float | None]
    color: str


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (the top of the y axis)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value * (1 - 1e-9):
            return float(candidate)
    return float(10 ** (exponent + 1))


def _svg(title: str, body: list[str], *, empty: bool) -> SafeString:
    empty_attr = ' data-empty="true"' if empty else ""
    header = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}"{empty_attr} xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<text x="{LEFT}" y="15" {TITLE}>{escape(title)}</text>'
    )
    if empty:
        body = [
            *body,
            f'<text x="{LEFT + PLOT_W / 2}" y="{TOP + PLOT_H / 2}" text-anchor="middle" '
            f'class="chart-empty" font-size="12" fill="#666">No data in this window</text>',
        ]
    return mark_safe(header + "".join(body) + "</svg>")  # noqa: S308 - every text above is escaped


def _legend(series: list[Series]) -> list[str]:
    parts = []
    x = LEFT
    for s in series:
        parts.append(
            f'<rect x="{x}" y="21" width="9" height="9" fill="{s.color}"/>'
            f'<text x="{x + 12}" y="29" {LEGEND}>{escape(s.label)}</text>'
        )
        x += 22 + 6.2 * len(s.label)
    return parts


def _y_axis(top: float, y_format: Callable[[float], str]) -> list[str]:
    parts = []
    for i in range(5):
        value = top * i / 4
        y = TOP + PLOT_H - PLOT_H * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" {GRID}/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" {TICK}>'
            f"{escape(y_format(value))}</text>"
        )
    return parts


def _x_axis(times: list[datetime], time_format: str) -> list[str]:
    parts = [f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{TOP + PLOT_H}" y2="{TOP + PLOT_H}" {AXIS}/>']
    if not times:
        return parts
    step = max(1, math.ceil(len(times) / 6))
    slot = PLOT_W / len(times)
    for i in range(0, len(times), step):
        x = LEFT + slot * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + PLOT_H + 16}" text-anchor="middle" {TICK}>'
            f"{escape(times[i].strftime(time_format))}</text>"
        )
    return parts


def time_chart(
    title: str,
    times: list[datetime],
    series: list[Series],
    *,
    kind: str = "line",
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
    y_max: float | None = None,
    time_format: str = "%H:%M",
    zero_is_empty: bool = False,
) -> SafeString:
    """A line chart (None values leave gaps) or, with ``kind="stacked"``, stacked bars, over time slots.

    A chart with no values, or (``zero_is_empty``, and for stacked bars) only
    zeros, says "No data in this window" instead.
    """
    if kind == "stacked":
        totals = [sum(s.values[i] or 0 for s in series) for i in range(len(times))]
        highest = max(totals, default=0)
    else:
        highest = max((v for s in series for v in s.values if v is not None), default=0)
    if kind == "stacked" or zero_is_empty:
        empty = not highest
    else:
        empty = not any(v is not None for s in series for v in s.values)
    top = y_max if y_max is not None else nice_ceiling(highest)
    parts = [*_legend(series), *_y_axis(top, y_format), *_x_axis(times, time_format)]
    slot = PLOT_W / max(len(times), 1)
    y_of = lambda v: TOP + PLOT_H - PLOT_H * min(v, top) / top  # noqa: E731
    if not empty and kind == "stacked":
        for i in range(len(times)):
            base = 0.0
            for s in series:
                value = s.values[i] or 0
                if value:
                    y0, y1 = y_of(base), y_of(base + value)
                    parts.append(
                        f'<rect class="mark" x="{LEFT + slot * i + slot * 0.1:.2f}" y="{y1:.2f}" '
                        f'width="{max(slot * 0.8, 0.8):.2f}" height="{max(y0 - y1, 0.5):.2f}" '
                        f'fill="{s.color}">'
                        f"<title>{escape(s.label)} {escape(times[i].strftime(time_format))}: "
                        f"{escape(y_format(value))}</title></rect>"
                    )
                base += value
    elif not empty:
        for s in series:
            commands, run = [], 0
            for i, value in enumerate(s.values):
                if value is None:
                    run = 0
                    continue
                x, y = LEFT + slot * (i + 0.5), y_of(value)
                commands.append(f"{'L' if run else 'M'}{x:.1f} {y:.1f}")
                isolated = (i == 0 or s.values[i - 1] is None) and (
                    i == len(s.values) - 1 or s.values[i + 1] is None
                )
                if isolated:
                    parts.append(f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{s.color}"/>')
                run += 1
            if commands:
                parts.append(
                    f'<path class="mark" d="{" ".join(commands)}" fill="none" stroke="{s.color}" '
                    f'stroke-width="1.8" stroke-linejoin="round"/>'
                )
    return _svg(title, parts, empty=empty)


def bar_chart(title: str, bars: list[tuple[str, float, str, str]]) -> SafeString:
    """Horizontal bars, one per (label, value, color, text shown after the bar)."""
    row = 22
    height_needed = TOP + row * max(len(bars), 1) + 8
    top = nice_ceiling(max((v for _, v, _, _ in bars), default=0))
    # Wide enough for the longest label (queue names are long), then 200 px of bar and room for its text.
    label_w = max(120, 12 + math.ceil(6.2 * max((len(label) for label, _, _, _ in bars), default=0)))
    plot_w, width = 200, label_w + 200 + 175
    parts = []
    for i, (label, value, color, text) in enumerate(bars):
        y = TOP + row * i
        width = plot_w * value / top if value else 0
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" {TICK}>'
            f"{escape(label)}</text>"
            f'<rect class="chart-track" x="{label_w}" y="{y + 3}" width="{plot_w}" height="15" '
            f'fill="#f2f2f2"/>'
            f'<rect class="mark" x="{label_w}" y="{y + 3}" width="{max(width, 1.5):.1f}" height="15" '
            f'fill="{color}"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text x="{label_w + max(width, 1.5) + 5:.1f}" y="{y + 14}" {TICK}>'
            f"{escape(text)}</text>"
        )
    svg = _svg(title, parts, empty=not bars)
    size = f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
    fitted = f'viewBox="0 0 {width} {height_needed}" width="{width}" height="{height_needed}"'
    return mark_safe(svg.replace(size, fitted, 1))  # noqa: S308 - only the size changes
