"""Small charts drawn on the server as inline SVG: no JavaScript, no CDN, works offline.

``chart_build`` turns series of (x, y) points into the geometry a template draws (polylines,
bars, axis labels) and the rows of the text table every chart carries for screen readers and
for anyone who wants the numbers. Pure functions: no database, no request; the template tags in
``genesys.templatetags.genesys_charts`` render the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

Number = int | float | Decimal
X = datetime | int | float

# A palette readable by people with the common colour-vision deficiencies (Okabe-Ito).
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")


@dataclass(frozen=True)
class Series:
    """One line (or bar set) of a chart: a label and its points, x ascending or not."""

    label: str
    points: Sequence[tuple[X, Number | None]]
    kind: str = "line"  # "line", "step" (a value that holds until the next one) or "bar"
    axis: str = "left"  # "left" or "right": a second scale (stock next to prices)


@dataclass
class DrawnSeries:
    label: str
    colour: str
    kind: str
    axis: str
    path: str = ""  # the SVG path data of a line / step
    bars: list[dict[str, float]] = field(default_factory=list)
    dots: list[dict[str, float]] = field(default_factory=list)


@dataclass
class Chart:
    title: str
    width: int
    height: int
    series: list[DrawnSeries]
    y_labels: list[dict[str, Any]]  # {"y": pixel, "text": "12.5"} for the left axis
    y2_labels: list[dict[str, Any]]
    x_labels: list[dict[str, Any]]
    table_header: list[str]
    table_rows: list[list[str]]
    empty: bool
    plot: dict[str, float]  # left, top, right, bottom of the plotting area


def _x_value(x: X) -> float:
    return x.timestamp() if isinstance(x, datetime) else float(x)


def _x_text(x: X, *, span: float) -> str:
    if isinstance(x, datetime):
        return x.strftime("%H:%M") if span <= 2 * 86400 else x.strftime("%d/%m")
    return f"{x:g}"


def number_text(value: Number | None) -> str:
    """Short, locale-neutral: 1234 -> "1234", 12.5 -> "12.5", 1_500_000 -> "1.5M"."""
    if value is None:
        return "—"
    number = float(value)
    if abs(number) >= 1_000_000:
        return f"{number / 1_000_000:.3g}M"
    if abs(number) >= 10_000:
        return f"{number / 1000:.3g}k"
    if number == int(number):
        return str(int(number))
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _range(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    low = min(low, 0.0) if low >= 0 and low <= high * 0.25 else low  # bars and counts start at 0
    if high == low:
        high = low + (abs(low) or 1.0)
    return low, high


def chart_build(
    *,
    title: str,
    series: Sequence[Series],
    width: int = 640,
    height: int = 180,
    x_title: str = "",
    compact: bool = False,
) -> Chart:
    """The drawing of ``series``: pixel geometry and the text table (one row per x, one column
    per series). ``compact`` (a sparkline) drops the axes and leaves no margins."""
    margin = (
        {"left": 1.0, "top": 1.0, "right": 1.0, "bottom": 1.0}
        if compact
        else {"left": 48.0, "top": 10.0, "right": 48.0, "bottom": 22.0}
    )
    plot = {
        "left": margin["left"],
        "top": margin["top"],
        "right": width - margin["right"],
        "bottom": height - margin["bottom"],
    }
    xs = [_x_value(x) for s in series for x, y in s.points if y is not None]
    empty = not xs
    drawn: list[DrawnSeries] = []
    y_labels: list[dict[str, Any]] = []
    y2_labels: list[dict[str, Any]] = []
    x_labels: list[dict[str, Any]] = []
    if not empty:
        x_low, x_high = min(xs), max(xs)
        bars = [s for s in series if s.kind == "bar"]
        bar_xs = sorted({_x_value(x) for s in bars for x, _y in s.points})
        slot = (plot["right"] - plot["left"]) / max(len(bar_xs), 1)
        if bars:  # bars sit in slots; lines over them pass through the slots' centres
            positions = {x: plot["left"] + slot * (i + 0.5) for i, x in enumerate(bar_xs)}
        else:
            positions = {}
        span = x_high - x_low

        def px(x: float) -> float:
            if x in positions:
                return positions[x]
            if span == 0:
                return (plot["left"] + plot["right"]) / 2
            return plot["left"] + (x - x_low) / span * (plot["right"] - plot["left"])

        scales: dict[str, tuple[float, float]] = {}
        for axis in ("left", "right"):
            values = [float(y) for s in series if s.axis == axis for _x, y in s.points if y is not None]
            if any(s.axis == axis and s.kind == "bar" for s in series):
                values.append(0.0)
            if values:
                scales[axis] = _range(values)

        def py(y: float, axis: str) -> float:
            low, high = scales[axis]
            return plot["bottom"] - (y - low) / (high - low) * (plot["bottom"] - plot["top"])

        bar_count = max(len(bars), 1)
        for index, s in enumerate(series):
            item = DrawnSeries(label=s.label, colour=PALETTE[index % len(PALETTE)], kind=s.kind, axis=s.axis)
            points = sorted(((_x_value(x), float(y)) for x, y in s.points if y is not None))
            if s.kind == "bar":
                position = bars.index(s)
                width_each = slot * 0.8 / bar_count
                for x, y in points:
                    top, base = py(max(y, 0.0), s.axis), py(min(y, 0.0), s.axis)
                    item.bars.append(
                        {
                            "x": round(px(x) - slot * 0.4 + position * width_each, 2),
                            "y": round(top, 2),
                            "w": round(max(width_each - 1, 1), 2),
                            "h": round(max(base - top, 0.5), 2),
                        }
                    )
            else:
                commands = []
                for i, (x, y) in enumerate(points):
                    X_, Y_ = round(px(x), 2), round(py(y, s.axis), 2)
                    if i and s.kind == "step":
                        commands.append(f"H{X_}")
                    commands.append(f"{'L' if i else 'M'}{X_},{Y_}")
                if s.kind == "step" and points:
                    commands.append(f"H{plot['right']}")
                item.path = " ".join(commands)
                if len(points) == 1 or (not compact and len(points) <= 40):
                    item.dots = [{"x": round(px(x), 2), "y": round(py(y, s.axis), 2)} for x, y in points]
            drawn.append(item)
        if not compact:
            for axis, target in (("left", y_labels), ("right", y2_labels)):
                if axis in scales:
                    low, high = scales[axis]
                    for step in range(3):
                        value = low + (high - low) * step / 2
                        target.append({"y": round(py(value, axis), 2), "text": number_text(value)})
            ticks = bar_xs if bars else sorted(set(xs))
            originals = {_x_value(x): x for s in series for x, _y in s.points}
            chosen = ticks if len(ticks) <= 4 else [ticks[0], ticks[len(ticks) // 2], ticks[-1]]
            x_labels = [{"x": round(px(t), 2), "text": _x_text(originals[t], span=span)} for t in chosen]
    header, rows = _table(series=series, x_title=x_title)
    return Chart(
        title=title,
        width=width,
        height=height,
        series=drawn,
        y_labels=y_labels,
        y2_labels=y2_labels,
        x_labels=x_labels,
        table_header=header,
        table_rows=rows,
        empty=empty,
        plot=plot,
    )


def _table(*, series: Sequence[Series], x_title: str) -> tuple[list[str], list[list[str]]]:
    """One row per distinct x (oldest first), one column per series."""
    by_x: dict[float, dict[int, Number | None]] = {}
    originals: dict[float, X] = {}
    for index, s in enumerate(series):
        for x, y in s.points:
            key = _x_value(x)
            originals[key] = x
            by_x.setdefault(key, {})[index] = y
    rows = []
    for key in sorted(by_x):
        x = originals[key]
        text = x.strftime("%Y-%m-%d %H:%M") if isinstance(x, datetime) else f"{x:g}"
        rows.append([text, *(number_text(by_x[key].get(i)) for i in range(len(series)))])
    return [x_title, *(s.label for s in series)], rows
