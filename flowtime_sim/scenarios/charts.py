"""Charts people can read, drawn on the server: one SVG line chart per series with every run
overlaid, a time axis in the grid's units, a value axis, a legend, and each point's value as
a tooltip. ``--plot`` writes them as SVG, as one HTML page, or as PNG (with matplotlib)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from flowtime_sim.errors import UserError

if TYPE_CHECKING:
    from flowtime_sim.scenarios.compare import ComparedRun, Comparison

#: Colour-blind-safe (Okabe–Ito), then darker repeats; legends also name each line.
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#000000",
    "#004c7a",
    "#9c6b00",
    "#006b4e",
    "#8a4f73",
)
WIDTH, HEIGHT = 760.0, 320.0
LEFT, RIGHT, TOP, BOTTOM = 64.0, 16.0, 34.0, 44.0
MAX_POINT_TIPS = 400  # per line; beyond this the tooltips cost more than they help
PLOT_SUFFIXES = (".svg", ".html", ".png")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]`` (1, 2, 2.5 or 5 times a power of ten)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    t = first
    while t <= high + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < high:
        ticks.append(round(t, 12))
    return ticks


def number(value: float) -> str:
    """A figure for people: ``12,345``, ``98.6``, ``0.8333``."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def label(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def time_axis(run: ComparedRun) -> tuple[list[float], str]:
    """Each bin's start in the grid's units, and the axis title."""
    grid = run.catalog.get("grid") or {}
    size = float(grid.get("binSize", 1))
    unit = str(grid.get("binUnit", "bins")).lower()
    bins = len(run.binned.times) or max((len(s.values) for s in run.binned.series), default=0)
    start = grid.get("start")
    title = f"time ({unit}{' from ' + str(start) if start else ''})"
    return [b * size for b in range(bins)], title


def line_chart(
    title: str,
    lines: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    x_title: str,
    y_title: str = "value",
) -> str:
    """An SVG chart of ``lines`` — ``(legend label, xs, ys)`` — overlaid on shared axes."""
    xs_all = [x for _, xs, _ in lines for x in xs] or [0.0]
    ys_all = [y for _, _, ys in lines for y in ys] or [0.0]
    x_ticks = nice_ticks(min(xs_all), max(xs_all), 8)
    y_ticks = nice_ticks(min(0.0, min(ys_all)), max(ys_all), 5)
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    legend_rows = math.ceil(len(lines) / 3)
    height = HEIGHT + 18 * legend_rows
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / ((x1 - x0) or 1) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - (y - y0) / ((y1 - y0) or 1) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ft-chart" viewBox="0 0 {WIDTH:g} '
        f'{height:g}" width="{WIDTH:g}" height="{height:g}" role="img" '
        f'font-family="system-ui, sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="{LEFT:g}" y="20" font-size="14" font-weight="600" fill="#1f2933">'
        f"{escape(title)}</text>",
        '<g class="axes" stroke="#d9dee5" stroke-width="1">',
    ]
    for t in y_ticks:
        out.append(
            f'<line x1="{LEFT:g}" x2="{WIDTH - RIGHT:g}" y1="{py(t):.1f}" y2="{py(t):.1f}"/>'
        )
    out.append(
        f'<line x1="{LEFT:g}" x2="{LEFT:g}" y1="{TOP:g}" y2="{TOP + plot_h:g}" stroke="#52606d"/>'
    )
    out.append(
        f'<line x1="{LEFT:g}" x2="{WIDTH - RIGHT:g}" y1="{TOP + plot_h:g}" '
        f'y2="{TOP + plot_h:g}" stroke="#52606d"/></g>'
    )
    out.append('<g class="ticks" fill="#52606d">')
    for t in y_ticks:
        out.append(
            f'<text x="{LEFT - 6:g}" y="{py(t) + 4:.1f}" text-anchor="end">{label(t)}</text>'
        )
    for t in x_ticks:
        out.append(
            f'<text x="{px(t):.1f}" y="{TOP + plot_h + 16:g}" text-anchor="middle">'
            f"{label(t)}</text>"
        )
    out.append("</g>")
    out.append(
        f'<text class="x-title" x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h + 34:g}" '
        f'text-anchor="middle" fill="#1f2933">{escape(x_title)}</text>'
    )
    out.append(
        f'<text class="y-title" transform="translate(14 {TOP + plot_h / 2:.1f}) '
        f'rotate(-90)" text-anchor="middle" fill="#1f2933">{escape(y_title)}</text>'
    )
    for i, (name, xs, ys) in enumerate(lines):
        colour = PALETTE[i % len(PALETTE)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=False))
        out.append(
            f'<g class="line" data-label="{escape(name)}"><title>{escape(name)}</title>'
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" '
            f'points="{points}"/>'
        )
        if len(xs) <= MAX_POINT_TIPS:
            for x, y in zip(xs, ys, strict=False):
                out.append(
                    f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.2" '
                    f'fill="{colour}"><title>{escape(name)}: {label(y)} at '
                    f"{label(x)}</title></circle>"
                )
        out.append("</g>")
    out.append('<g class="legend">')
    for i, (name, _, _) in enumerate(lines):
        row, col = divmod(i, 3)
        lx, ly = LEFT + col * (plot_w / 3), HEIGHT - 4 + row * 18
        out.append(
            f'<rect x="{lx:.1f}" y="{ly - 8:.1f}" width="14" height="4" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/><text x="{lx + 20:.1f}" y="{ly:.1f}" '
            f'fill="#1f2933">{escape(_shorten(name, 48))}</text>'
        )
    out.append("</g></svg>")
    return "\n".join(out)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def comparison_charts(comparison: Comparison) -> list[tuple[str, str]]:
    """``(series name, SVG)`` for every compared series, every run that has it overlaid."""

    charts = []
    first: ComparedRun | None = comparison.runs[0] if comparison.runs else None
    x_title = time_axis(first)[1] if first else "time"
    for s in comparison.series:
        lines = []
        for run in comparison.runs:
            if s.name in run.series:
                xs, _ = time_axis(run)
                ys = run.series[s.name].values
                lines.append((run.label, xs[: len(ys)], ys))
        charts.append((s.name, line_chart(s.name, lines, x_title)))
    return charts


def write_plot(comparison: Comparison, path: Path) -> list[Path]:
    """Write the charts: ``.svg`` one file per series (``NAME-SERIES.svg``, or ``path`` itself
    for a single series), ``.html`` one page, ``.png`` one image per series like SVG."""
    suffix = path.suffix.lower()
    if suffix not in PLOT_SUFFIXES:
        raise UserError(
            f"--plot {str(path)!r}: the file must end in .svg, .png or .html", field="plot"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    charts = comparison_charts(comparison)
    if suffix == ".html":
        path.write_text(html_page(comparison, charts), encoding="utf-8")
        return [path]
    targets = (
        [path]
        if len(charts) == 1
        else [path.with_name(f"{path.stem}-{_file_part(name)}{suffix}") for name, _ in charts]
    )
    if suffix == ".svg":
        for target, (_, svg) in zip(targets, charts, strict=True):
            target.write_text(svg + "\n", encoding="utf-8")
        return targets
    from flowtime_sim.scenarios.png import write_pngs

    write_pngs(comparison, targets)
    return targets


def _file_part(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "series"


def html_page(comparison: Comparison, charts: Sequence[tuple[str, str]]) -> str:
    """One self-contained page: a table of totals and peaks per series, and the charts."""
    from flowtime_sim.scenarios.compare import bin_ranges

    rows = []
    for s in comparison.series:
        for f in s.runs:
            rows.append(
                f"<tr><th>{escape(s.name)}</th><td>{escape(f.label)}</td>"
                f'<td class="n">{label(f.total)}</td><td class="n">{label(f.peak)}</td>'
                f'<td class="n">{f.peak_bin}</td>'
                f"<td>{escape(bin_ranges(s.differing_bins)) or 'none'}</td></tr>"
            )
    figures = "\n".join(
        f'<figure id="series-{escape(_file_part(n))}">{svg}</figure>' for n, svg in charts
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Comparison of {len(comparison.runs)} runs</title>
<style>body{{font:14px system-ui,sans-serif;color:#1f2933;margin:2rem;max-width:60rem}}
table{{border-collapse:collapse;margin-bottom:2rem}}td,th{{padding:.25rem .6rem;text-align:left;
border-bottom:1px solid #e4e7eb}}.n{{text-align:right;font-variant-numeric:tabular-nums}}
figure{{margin:0 0 1.5rem}}svg{{max-width:100%;height:auto}}</style></head><body>
<h1>Comparison of {len(comparison.runs)} runs</h1>
<table><thead><tr><th>series</th><th>run</th><th class="n">total</th><th class="n">peak</th>
<th class="n">peak bin</th><th>bins where runs differ</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table>
{figures}
</body></html>
"""
