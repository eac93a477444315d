"""Rendering and running one template in a test, without storing anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowtime_sim.types import ParameterSources

if TYPE_CHECKING:
    from flowtime_sim.engine import Mode
    from flowtime_sim.plugins import PluginHost
    from flowtime_sim.rendering import RenderedModel


def render_template(
    host: PluginHost,
    ref: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    version: str | None = None,
) -> RenderedModel:
    """Resolve ``parameters`` over the template's defaults and render a validated model.

    ``ref`` is a template id or ``pack:id``. Invalid parameters raise
    :class:`~flowtime_sim.errors.ParameterError`, a broken body
    :class:`~flowtime_sim.errors.TemplateError`, exactly as ``flowtime-sim new`` would.
    """
    from flowtime_sim.core import Flowtime

    sources = ParameterSources(sets=dict(parameters or {}))
    return Flowtime(host=host).render(ref, sources, version=version)


def run_template(
    host: PluginHost,
    ref: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    version: str | None = None,
    mode: Mode = "expected",
    seed: int | None = None,
) -> dict[str, list[float]]:
    """Render like :func:`render_template` and evaluate: every node's series by node id.

    ``mode`` is ``expected`` (PMF nodes give their expected value) or ``sample`` (drawn with
    PCG32 from ``seed``, else the model's ``rng.seed``).
    """
    from flowtime_sim.engine import evaluate

    model = render_template(host, ref, parameters, version=version).model
    series = evaluate(model, mode=mode, seed=seed)
    return {node: [float(v) for v in values] for node, values in series.items()}
