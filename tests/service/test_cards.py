"""Which previews may be inlined, run series and sparklines, and the page's figures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flowtime_sim.model import parse_model
from flowtime_sim.preview.svg import render_svg
from flowtime_sim.service.cards import inline_svg, when
from flowtime_sim.service.charts import Series, number, read_series, spark_points

MODEL = """\
schemaVersion: 1
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [1, 2]}
  - {id: b, kind: expr, expr: "a * 2"}
"""
SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">{}</svg>'


def test_the_built_in_preview_is_inlined() -> None:
    svg = render_svg(parse_model(MODEL, origin="t"), 'a "title" <b>')
    markup = inline_svg(svg.encode())
    assert markup is not None and str(markup) == svg
    assert inline_svg(b'<?xml version="1.0"?>\n' + svg.encode()) == svg


@pytest.mark.parametrize(
    "content",
    [
        SVG.format("<script>alert(1)</script>"),
        SVG.format('<rect onclick="alert(1)"/>'),
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        SVG.format("<foreignObject><p>x</p></foreignObject>"),
        SVG.format('<a href="https://example.com"><rect/></a>'),
        SVG.format('<use href="https://example.com/x.svg#a"/>'),
        SVG.format('<use xmlns:xl="http://www.w3.org/1999/xlink" xl:href="javascript:alert(1)"/>'),
        SVG.format('<rect fill="url(https://example.com/x)"/>'),
        SVG.format('<rect style="fill: red"/>'),
        SVG.format('<image href="data:image/png;base64,AAAA"/>'),
        '<!DOCTYPE svg [<!ENTITY x "y">]>' + SVG.format("<text>&x;</text>"),
        "<html><body/></html>",
        SVG.format("<rect>"),
        b"\xff\xfe<svg/>",  # not UTF-8
        SVG.format("<rect/>" * 80000),  # over 512 KiB
    ],
)
def test_anything_but_plain_drawing_is_not_inlined(content: str | bytes) -> None:
    assert inline_svg(content if isinstance(content, bytes) else content.encode()) is None


def test_safe_local_references_are_allowed() -> None:
    ok = SVG.format(
        '<defs><marker id="m"/></defs><path marker-end="url(#m)" d="M0 0"/><use href="#m"/>'
    )
    assert inline_svg(ok.encode()) == ok


def test_read_series_in_file_order() -> None:
    csv = b"bin,time_bin,series,value\n0,,b,1\n1,,b,2.5\n0,,a,7\n1,,a,x\n"
    assert read_series(csv) == [Series("b", (1.0, 2.5)), Series("a", (7.0,))]
    s = Series("s", (1.0, 3.0, 2.0))
    assert (s.low, s.high, s.total, s.mean) == (1.0, 3.0, 6.0, 2.0)


def test_sparklines_fit_the_box_and_keep_spikes() -> None:
    points = spark_points((0.0, 5.0, 10.0), 100, 20, pad=0)
    assert points == "0.0,20.0 50.0,10.0 100.0,0.0"
    assert spark_points((3.0, 3.0), 100, 20) == "2.0,10.0 98.0,10.0"
    long = tuple(0.0 for _ in range(100_000))
    spiky = (*long[:54321], 99.0, *long[54322:])
    drawn = spark_points(spiky, 160, 32, pad=0).split()
    assert len(drawn) <= 160
    assert any(p.endswith(",0.0") for p in drawn)  # the single spike reaches the top
    assert spark_points((), 10, 10) == ""


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12345.0, "12,345"),
        (98.6, "98.6"),
        (0.8333333333333334, "0.8333"),
        (1234.5, "1,234"),
        (-3.0, "-3"),
        (float("nan"), "nan"),
    ],
)
def test_figures_for_people(value: float, text: str) -> None:
    assert number(value) == text


def test_when_is_relative_for_recent_times() -> None:
    now = datetime(2025, 1, 6, 12, 0, 0, tzinfo=UTC)
    assert when("2025-01-06T11:59:30Z", now) == "just now"
    assert when("2025-01-06T11:30:00Z", now) == "30 min ago"
    assert when("2025-01-06T02:00:00Z", now) == "10 h ago"
    assert when("2025-01-01T04:20:00Z", now) == "1 Jan 2025, 04:20 UTC"
    assert when("not a time", now) == "not a time"
