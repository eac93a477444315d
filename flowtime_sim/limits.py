"""Limits on the work one command or request may cause, each changeable by an environment
variable (read when the limit is applied, so a test or an operator can change it at any time).

* ``FLOWTIME_SIM_RENDER_TIMEOUT`` (10 seconds): the wall time of rendering one template;
* ``FLOWTIME_SIM_RENDER_MAX_BYTES`` (16 MiB): a rendered model, and any one string or list
  a template builds on the way;
* ``FLOWTIME_SIM_MAX_CELLS`` (50 million): nodes × bins of a model to run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowtime_sim.errors import UserError

if TYPE_CHECKING:
    from flowtime_sim.model.types import Model


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit: its environment variable, its default and the unit it counts in."""

    env: str
    default: float
    unit: str
    integer: bool = True

    def get(self) -> float:
        """The limit in force: the environment variable when set, else the default."""
        text = os.environ.get(self.env, "").strip()
        if not text:
            return self.default
        try:
            value = int(text) if self.integer else float(text)
        except ValueError:
            value = 0
        if not value > 0 or value == float("inf"):
            kind = "whole number" if self.integer else "number"
            unit = f" ({self.unit})" if self.unit else ""
            raise UserError(f"{self.env}={text!r} must be a positive {kind}{unit}")
        return value

    def describe(self, value: float) -> str:
        """``"10 seconds (FLOWTIME_SIM_RENDER_TIMEOUT)"``: the limit as messages name it."""
        shown = f"{value:g}" if not self.integer else f"{int(value):,}"
        return f"{shown}{' ' if self.unit else ''}{self.unit} ({self.env})"


RENDER_TIMEOUT = Limit("FLOWTIME_SIM_RENDER_TIMEOUT", 10.0, "s", integer=False)
#: Counted in characters (the models are ASCII YAML) and, for lists, in items.
RENDER_MAX_BYTES = Limit("FLOWTIME_SIM_RENDER_MAX_BYTES", 16 * 1024 * 1024, "")
MAX_CELLS = Limit("FLOWTIME_SIM_MAX_CELLS", 50_000_000, "cells")


class LimitError(UserError):
    """A request that would do more work than a limit allows."""


def check_cells(model: Model) -> None:
    """Refuse, before evaluating, a model whose nodes × bins pass ``FLOWTIME_SIM_MAX_CELLS``:
    the engine holds every node's series in memory."""
    nodes, bins = len(model.nodes), model.grid.bins
    limit = MAX_CELLS.get()
    if nodes * bins > limit:
        raise LimitError(
            f"the model has {nodes:,} nodes × {bins:,} bins = {nodes * bins:,} cells, more "
            f"than the limit of {MAX_CELLS.describe(limit)}; run fewer bins or nodes, or raise "
            "the limit",
            field="model",
        )
