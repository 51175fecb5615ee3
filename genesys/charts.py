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
    drawn: list[DrawnSeries] = []
    labels: dict[str, list[dict[str, Any]]] = {"left": [], "right": [], "x": []}
    if xs:
        frame = _Frame(plot=plot, series=series, xs=xs)
        drawn = [_series_draw(s, index=index, frame=frame, compact=compact) for index, s in enumerate(series)]
        if not compact:
            labels = _axis_labels(frame=frame, series=series, xs=xs)
    header, rows = _table(series=series, x_title=x_title)
    return Chart(
        title=title,
        width=width,
        height=height,
        series=drawn,
        y_labels=labels["left"],
        y2_labels=labels["right"],
        x_labels=labels["x"],
        table_header=header,
        table_rows=rows,
        empty=not xs,
        plot=plot,
    )


class _Frame:
    """Where values land in the plotting area: bars sit in slots (lines over them pass through
    the slots' centres), other x values spread over the width; one y scale per axis."""

    def __init__(self, *, plot: dict[str, float], series: Sequence[Series], xs: list[float]) -> None:
        self.plot = plot
        self.x_low, self.x_high = min(xs), max(xs)
        self.span = self.x_high - self.x_low
        self.bars = [s for s in series if s.kind == "bar"]
        self.bar_xs = sorted({_x_value(x) for s in self.bars for x, _y in s.points})
        self.slot = (plot["right"] - plot["left"]) / max(len(self.bar_xs), 1)
        self.positions = (
            {x: plot["left"] + self.slot * (i + 0.5) for i, x in enumerate(self.bar_xs)} if self.bars else {}
        )
        self.scales: dict[str, tuple[float, float]] = {}
        for axis in ("left", "right"):
            values = [float(y) for s in series if s.axis == axis for _x, y in s.points if y is not None]
            if any(s.axis == axis and s.kind == "bar" for s in series):
                values.append(0.0)
            if values:
                self.scales[axis] = _range(values)

    def px(self, x: float) -> float:
        if x in self.positions:
            return self.positions[x]
        if self.span == 0:
            return (self.plot["left"] + self.plot["right"]) / 2
        return self.plot["left"] + (x - self.x_low) / self.span * (self.plot["right"] - self.plot["left"])

    def py(self, y: float, axis: str) -> float:
        low, high = self.scales[axis]
        return self.plot["bottom"] - (y - low) / (high - low) * (self.plot["bottom"] - self.plot["top"])


def _series_draw(s: Series, *, index: int, frame: _Frame, compact: bool) -> DrawnSeries:
    item = DrawnSeries(label=s.label, colour=PALETTE[index % len(PALETTE)], kind=s.kind, axis=s.axis)
    points = sorted((_x_value(x), float(y)) for x, y in s.points if y is not None)
    if s.kind == "bar":
        item.bars = _bars(s, points=points, frame=frame)
        return item
    commands = []
    for i, (x, y) in enumerate(points):
        x_px, y_px = round(frame.px(x), 2), round(frame.py(y, s.axis), 2)
        if i and s.kind == "step":
            commands.append(f"H{x_px}")
        commands.append(f"{'L' if i else 'M'}{x_px},{y_px}")
    if s.kind == "step" and points:
        commands.append(f"H{frame.plot['right']}")
    item.path = " ".join(commands)
    if len(points) == 1 or (not compact and len(points) <= 40):
        item.dots = [{"x": round(frame.px(x), 2), "y": round(frame.py(y, s.axis), 2)} for x, y in points]
    return item


def _bars(s: Series, *, points: list[tuple[float, float]], frame: _Frame) -> list[dict[str, float]]:
    position = frame.bars.index(s)
    width_each = frame.slot * 0.8 / max(len(frame.bars), 1)
    bars = []
    for x, y in points:
        top, base = frame.py(max(y, 0.0), s.axis), frame.py(min(y, 0.0), s.axis)
        bars.append(
            {
                "x": round(frame.px(x) - frame.slot * 0.4 + position * width_each, 2),
                "y": round(top, 2),
                "w": round(max(width_each - 1, 1), 2),
                "h": round(max(base - top, 0.5), 2),
            }
        )
    return bars


def _axis_labels(
    *, frame: _Frame, series: Sequence[Series], xs: list[float]
) -> dict[str, list[dict[str, Any]]]:
    """Three labels per y axis in use, and up to four x labels."""
    labels: dict[str, list[dict[str, Any]]] = {"left": [], "right": [], "x": []}
    for axis in ("left", "right"):
        if axis in frame.scales:
            low, high = frame.scales[axis]
            for step in range(3):
                value = low + (high - low) * step / 2
                labels[axis].append({"y": round(frame.py(value, axis), 2), "text": number_text(value)})
    ticks = frame.bar_xs if frame.bars else sorted(set(xs))
    originals = {_x_value(x): x for s in series for x, _y in s.points}
    chosen = ticks if len(ticks) <= 4 else [ticks[0], ticks[len(ticks) // 2], ticks[-1]]
    labels["x"] = [
        {"x": round(frame.px(t), 2), "text": _x_text(originals[t], span=frame.span)} for t in chosen
    ]
    return labels


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
