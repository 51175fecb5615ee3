"""``{% chart %}`` and ``{% sparkline %}``: inline SVG charts with a text table (genesys.charts).

    {% load genesys_charts %}
    {% chart title series x_title=_("time") %}
    {% sparkline title series %}

``series`` is a list of ``genesys.charts.Series``; datetimes are shown in the local time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from genesys.charts import Series, chart_build

register = template.Library()


def _local(series: Sequence[Series]) -> list[Series]:
    return [
        Series(
            label=s.label,
            kind=s.kind,
            axis=s.axis,
            points=[(timezone.localtime(x) if isinstance(x, datetime) else x, y) for x, y in s.points],
        )
        for s in series
    ]


@register.simple_tag
def chart(
    title: str, series: Sequence[Series], x_title: str = "", width: int = 640, height: int = 180
) -> SafeString:
    """A chart with axes, a legend and its numbers in a table below (collapsed)."""
    drawn = chart_build(
        title=str(title), series=_local(series), x_title=str(x_title), width=width, height=height
    )
    return render_to_string("genesys/chart.html", {"chart": drawn, "compact": False})


@register.simple_tag
def sparkline(title: str, series: Sequence[Series], width: int = 120, height: int = 24) -> SafeString:
    """A small chart for a table cell: no axes; the numbers are in its title and table."""
    drawn = chart_build(title=str(title), series=_local(series), width=width, height=height, compact=True)
    return render_to_string("genesys/chart.html", {"chart": drawn, "compact": True})
