"""How created artifacts are reported, shared by ``new``, ``derive`` and ``run``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowtime_sim.cli import terminal

if TYPE_CHECKING:
    from flowtime_sim.registry import Created


def created_summary(result: Created) -> dict[str, Any]:
    from flowtime_sim.registry import ModelArtifact

    art = result.artifact
    cat = art.catalog
    out = {
        "kind": cat["kind"],
        "id": art.id,
        "status": "unchanged" if result.unchanged else "created",
        "path": f"{result.root.rstrip('/')}/{art.key}",
    }
    if isinstance(art, ModelArtifact):
        out.update(model_id=art.id, version=art.version, inputs_hash=cat["inputs_hash"])
    else:
        out.update(run_id=art.id, model_id=cat.get("model_id"))
    if result.warnings:
        out["warnings"] = list(result.warnings)
    return out


def report_created(result: Created, as_json: bool) -> None:
    """The outcome on stdout; each warning as one line on stderr."""
    for warning in result.warnings:
        terminal.warn(warning)
    summary = created_summary(result)
    if as_json:
        terminal.print_json(summary)
        return
    what = f"{summary['id']}" + (f"@v{summary['version']}" if "version" in summary else "")
    verb = "unchanged" if result.unchanged else "created"
    terminal.line(f"{verb} {summary['kind']} {what}")
    terminal.line(f"  {summary['path']}")
