"""``--plot FILE.png``: the same charts as the SVGs, drawn by matplotlib (the optional
``png`` extra: ``pip install 'flowtime-sim[png]'``), which needs no browser or system
library to rasterise."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from flowtime_sim.errors import UserError

if TYPE_CHECKING:
    from flowtime_sim.scenarios.compare import Comparison


def write_pngs(comparison: Comparison, targets: Sequence[Path]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError(
            "--plot FILE.png needs matplotlib: pip install 'flowtime-sim[png]' "
            "(or write .svg or .html)",
            field="plot",
        ) from None
    from flowtime_sim.scenarios.charts import PALETTE, time_axis

    x_title = time_axis(comparison.runs[0])[1]
    for target, series in zip(targets, comparison.series, strict=True):
        fig, ax = plt.subplots(figsize=(9, 4), dpi=100)
        for i, run in enumerate(r for r in comparison.runs if series.name in r.series):
            xs, _ = time_axis(run)
            ys = run.series[series.name].values
            ax.plot(
                xs[: len(ys)], ys, label=run.label, color=PALETTE[i % len(PALETTE)], linewidth=1.6
            )
        ax.set_title(series.name)
        ax.set_xlabel(x_title)
        ax.set_ylabel("value")
        ax.grid(True, color="#d9dee5", linewidth=0.8)
        ax.legend(fontsize=8, loc="best")
        fig.tight_layout()
        fig.savefig(target, format="png")
        plt.close(fig)
