"""What changed between two model versions: template, parameters, nodes and edges, and —
when both have runs — their series (SPEC §13)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowtime_sim.canonical import canonical_json

if TYPE_CHECKING:
    from flowtime_sim.registry import ModelArtifact
    from flowtime_sim.scenarios.compare import Comparison

_MISSING = object()


@dataclass(frozen=True, slots=True)
class ParameterChange:
    name: str
    a: Any  # _MISSING when only B has it
    b: Any


@dataclass(frozen=True, slots=True)
class ModelDiff:
    a: str  # ID@vN
    b: str
    template: tuple[str, str]  # "id version" of each
    parameters: list[ParameterChange]
    nodes_added: list[dict[str, str]]
    nodes_removed: list[dict[str, str]]
    nodes_changed: list[tuple[str, str, str]]  # (id, kind in A, kind in B)
    edges_added: list[dict[str, str]]
    edges_removed: list[dict[str, str]]
    series: Comparison | None = None
    runs: tuple[str, str] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def same_model(self) -> bool:
        return not (
            self.parameters
            or self.nodes_added
            or self.nodes_removed
            or self.nodes_changed
            or self.edges_added
            or self.edges_removed
            or self.template[0] != self.template[1]
        )

    def as_json(self) -> dict[str, Any]:
        def shown(v: Any) -> Any:
            return None if v is _MISSING else v

        doc: dict[str, Any] = {
            "a": self.a,
            "b": self.b,
            "template": {"a": self.template[0], "b": self.template[1]},
            "parameters": [
                {
                    "name": p.name,
                    "a": shown(p.a),
                    "b": shown(p.b),
                    "only_in": "a" if p.b is _MISSING else "b" if p.a is _MISSING else None,
                }
                for p in self.parameters
            ],
            "nodes": {
                "added": self.nodes_added,
                "removed": self.nodes_removed,
                "changed": [{"id": i, "a": ka, "b": kb} for i, ka, kb in self.nodes_changed],
            },
            "edges": {"added": self.edges_added, "removed": self.edges_removed},
            "runs": list(self.runs) if self.runs else None,
            "series": self.series.as_json()["series"] if self.series else None,
            "notes": self.notes,
        }
        return doc


def diff_models(a: ModelArtifact, b: ModelArtifact) -> ModelDiff:
    ca, cb = a.catalog, b.catalog
    pa, pb = dict(ca["parameters"]), dict(cb["parameters"])
    changes = []
    for name in [*pa, *(k for k in pb if k not in pa)]:
        va, vb = pa.get(name, _MISSING), pb.get(name, _MISSING)
        if va is _MISSING or vb is _MISSING or canonical_json(va) != canonical_json(vb):
            changes.append(ParameterChange(name, va, vb))
    na = {n["id"]: n["kind"] for n in ca["topology"]["nodes"]}
    nb = {n["id"]: n["kind"] for n in cb["topology"]["nodes"]}
    ea = [dict(e) for e in ca["topology"]["edges"]]
    eb = [dict(e) for e in cb["topology"]["edges"]]
    return ModelDiff(
        a=a.ref,
        b=b.ref,
        template=(
            f"{ca['template_id']} {ca['template_version']}",
            f"{cb['template_id']} {cb['template_version']}",
        ),
        parameters=changes,
        nodes_added=[{"id": i, "kind": k} for i, k in nb.items() if i not in na],
        nodes_removed=[{"id": i, "kind": k} for i, k in na.items() if i not in nb],
        nodes_changed=[(i, na[i], nb[i]) for i in na if i in nb and na[i] != nb[i]],
        edges_added=[e for e in eb if e not in ea],
        edges_removed=[e for e in ea if e not in eb],
    )


def latest_run(runs: Sequence[Mapping[str, Any]], version: int) -> str | None:
    """The newest run of one model version, from a listing (newest first)."""
    for run in runs:
        if run.get("model_version") == version:
            return str(run["id"])
    return None
