"""The engine: evaluating models (SPEC §5) and writing runs' ``binned_v0.csv`` (SPEC §8).

``ENGINE_VERSION`` goes into every run's identity: change it whenever the numbers a model
produces could change (semantics, sampling, formatting), so that old run ids are not reused.
"""

from flowtime_sim.engine.binned_csv import write_binned_csv
from flowtime_sim.engine.evaluate import MODES, Mode, Progress, Series, effective_seed, evaluate
from flowtime_sim.engine.pcg32 import Pcg32

ENGINE_VERSION = "1.0.0"

__all__ = [
    "ENGINE_VERSION",
    "MODES",
    "Mode",
    "Pcg32",
    "Progress",
    "Series",
    "effective_seed",
    "evaluate",
    "write_binned_csv",
]
