"""Server-side charts as specs: geometry, the text table, and an empty chart (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.template import Context, Template

from genesys.charts import Series, chart_build, number_text

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_a_line_spans_the_plot_from_the_first_to_the_last_point():
    chart = chart_build(
        title="Backlog",
        series=[Series("pending", [(T0, 0), (T0 + timedelta(hours=1), 10)])],
        width=200,
        height=100,
    )
    (line,) = chart.series
    assert line.path.startswith(f"M{chart.plot['left']},{chart.plot['bottom']}")
    assert line.path.endswith(f"L{chart.plot['right']},{chart.plot['top']}")
    assert not chart.empty and chart.title == "Backlog"


def test_bars_sit_in_one_slot_per_x_side_by_side():
    chart = chart_build(
        title="Runs",
        series=[
            Series("valid", [(1, 10), (2, 20)], kind="bar"),
            Series("rejected", [(1, 1), (2, 0)], kind="bar"),
        ],
        width=300,
        height=100,
    )
    valid, rejected = chart.series
    assert len(valid.bars) == 2 and valid.bars[0]["x"] < rejected.bars[0]["x"] < valid.bars[1]["x"]
    assert valid.bars[1]["h"] > valid.bars[0]["h"] > rejected.bars[0]["h"]


def test_a_second_scale_keeps_small_numbers_readable_next_to_big_ones():
    chart = chart_build(
        title="Runs",
        series=[
            Series("rows", [(1, 100_000), (2, 120_000)], kind="bar"),
            Series("s", [(1, 3), (2, 4)], axis="right"),
        ],
    )
    assert chart.y_labels[-1]["text"] == "120k" and chart.y2_labels[-1]["text"] == "4"


def test_the_text_table_has_one_row_per_moment_and_one_column_per_series():
    chart = chart_build(
        title="Price",
        x_title="time",
        series=[
            Series("sent", [(T0, Decimal("120.50")), (T0 + timedelta(days=1), Decimal("119"))], kind="step"),
            Series("Rival: price", [(T0 + timedelta(days=1), Decimal("95"))], kind="step"),
        ],
    )
    assert chart.table_header == ["time", "sent", "Rival: price"]
    assert chart.table_rows == [["2026-12-01 08:00", "120.5", "—"], ["2026-12-02 08:00", "119", "95"]]


def test_no_points_is_an_empty_chart_not_an_error():
    chart = chart_build(title="Nothing", series=[Series("x", []), Series("y", [(T0, None)])])
    assert (
        chart.empty and chart.series == [] and chart.table_rows == [[T0.strftime("%Y-%m-%d %H:%M"), "—", "—"]]
    )


def test_numbers_are_short():
    assert [number_text(v) for v in (None, 12, 12.5, 1234, 25_000, 1_500_000)] == [
        "—",
        "12",
        "12.5",
        "1234",
        "25k",
        "1.5M",
    ]


def test_the_tag_renders_an_accessible_svg_with_its_numbers_in_a_table():
    html = Template("{% load genesys_charts %}{% chart 'Stock' series 'time' %}").render(
        Context({"series": [Series("stock", [(T0, 3), (T0 + timedelta(hours=2), 5)])]})
    )
    assert '<svg role="img" aria-label="Stock"' in html and "<title>Stock</title>" in html
    assert "<table>" in html and ">5<" in html
    spark = Template("{% load genesys_charts %}{% sparkline 'Runs' series %}").render(
        Context({"series": [Series("rows", [(1, 3), (2, 5)], kind="bar")]})
    )
    assert 'width="120" height="24"' in spark and "<rect" in spark
