"""The synthetic models benchmarks run: valid, varied, bounded and reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from flowtime_sim.engine import evaluate
from flowtime_sim.engine.synthetic import synthetic_model, synthetic_model_source
from flowtime_sim.model import Call, ExprNode


def test_same_arguments_same_model() -> None:
    assert synthetic_model_source(50, 10, seed=3) == synthetic_model_source(50, 10, seed=3)
    assert synthetic_model_source(50, 10, seed=3) != synthetic_model_source(50, 10, seed=4)


def test_size_mix_and_functions() -> None:
    model = synthetic_model(1000, 5, seed=1)
    kinds = [node.kind for node in model.nodes]
    assert len(kinds) == 1000
    assert 100 < kinds.count("const") < 250
    assert 50 < kinds.count("pmf") < 160
    assert len(model.outputs) == 1000
    used = set()
    for node in model.nodes:
        if isinstance(node, ExprNode):
            stack = [node.ast]
            while stack:
                item = stack.pop()
                if isinstance(item, Call):
                    used.add(item.name)
                    stack.extend(item.args)
                stack.extend(
                    getattr(item, name)
                    for name in ("left", "right", "operand")
                    if hasattr(item, name)
                )
    assert used == {
        "SHIFT",
        "MIN",
        "MAX",
        "CLAMP",
        "CONV",
        "MOD",
        "ROUND",
        "STEP",
        "PULSE",
        "FLOOR",
        "CEIL",
    }


def test_long_chains_stay_bounded() -> None:
    series = evaluate(synthetic_model(2000, 50, seed=5))
    assert max(float(np.abs(values).max()) for values in series.values()) < 1e4


def test_needs_a_node() -> None:
    with pytest.raises(ValueError, match=r"^nodes must be >= 1, got 0$"):
        synthetic_model_source(0, 10)


def test_stateful_model_has_queues_dispatch_and_feedback() -> None:
    from flowtime_sim.engine.reference import evaluate_reference
    from flowtime_sim.engine.synthetic import stateful_model
    from flowtime_sim.plan import QueueStep

    model = stateful_model(60, 30, seed=4, queues=9, feedback=5)
    assert model.plan is not None and model.topology is not None
    assert len(model.topology.nodes) == 9
    assert sum(1 for t in model.topology.nodes if t.dispatch is not None) == 3
    stages = [stage for stage in model.plan.stages if stage.sequential]
    assert sum(isinstance(stage.steps[0], QueueStep) for stage in stages) == 9
    assert len(stages) == 14
    series = evaluate(model)
    reference = evaluate_reference(model)
    for name, values in series.items():
        assert values.tolist() == reference[name], name
