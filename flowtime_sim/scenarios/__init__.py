"""Scenarios (SPEC §13): sweeps over a parameter grid, comparisons of runs, diffs of models.

A sweep is an artifact of its own (``sweeps/{sweep_id}/catalog.json``) that lists the model
versions and runs its grid made; ``compare`` and ``diff`` read what is stored and write
nothing.
"""

from flowtime_sim.scenarios.grid import Axis, Grid, parse_grid
from flowtime_sim.scenarios.store import SweepArtifact, load_sweep
from flowtime_sim.scenarios.sweep import SweepOutcome, SweepSpec, run_sweep

__all__ = [
    "Axis",
    "Grid",
    "SweepArtifact",
    "SweepOutcome",
    "SweepSpec",
    "load_sweep",
    "parse_grid",
    "run_sweep",
]
