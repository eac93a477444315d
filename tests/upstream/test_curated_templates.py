"""FlowTime's curated templates, unchanged, when a checkout of them is at hand:
``FLOWTIME_TEMPLATES_DIR=/path/to/FlowTime/templates pytest tests/upstream``. They are not
part of this repository (their licence and their authors' copyright stay with them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowtime_sim.upstream import load_upstream_file
from tests.upstream.conftest import converted

_DIR = os.environ.get("FLOWTIME_TEMPLATES_DIR", "")
CURATED = sorted(Path(_DIR).glob("*.yaml")) if _DIR else []

pytestmark = pytest.mark.skipif(not CURATED, reason="FLOWTIME_TEMPLATES_DIR not set")


@pytest.mark.parametrize("path", CURATED, ids=[p.stem for p in CURATED])
def test_a_curated_template_loads_and_converts_with_its_defaults(path: Path) -> None:
    tpl = load_upstream_file(path)
    model = converted(tpl)
    assert model["schemaVersion"] == 1
    assert model["provenance"]["templateId"] == tpl.id
    bins = model["grid"]["bins"]
    for node in model["nodes"]:
        assert node["kind"] in ("const", "pmf", "expr", "serviceWithBuffer", "router")
        if node["kind"] == "const":
            assert len(node["values"]) == bins, node["id"]
    depths = [
        tnode["semantics"]["queueDepth"]
        for tnode in model.get("topology", {}).get("nodes", [])
        if tnode["kind"].lower() in ("servicewithbuffer", "queue", "dlq")
    ]
    assert "self" not in depths and "" not in depths
    assert len(set(depths)) == len(depths)  # one queue series per queue
    outputs = {o["series"] for o in model["outputs"]}
    assert set(depths) <= outputs
    for edge in model.get("topology", {}).get("edges", []):
        assert edge["source"] == edge["from"].split(":")[0]
        assert edge["target"] == edge["to"].split(":")[0]
    assert "${" not in str(model)
