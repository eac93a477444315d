"""How created artifacts are reported, shared by ``new``, ``derive`` and ``run``."""

from __future__ import annotations

from typing import Any

from flowtime_sim.cli import terminal


def created_summary(result: Any) -> dict[str, Any]:
    art = result.artifact
    cat = art.catalog
    out = {"kind": cat["kind"], "id": art.id, "status": "unchanged" if result.unchanged
           else "created", "path": f"{result.root.rstrip('/')}/{art.key}"}
    if cat["kind"] == "model":
        out.update(model_id=art.id, version=art.version, inputs_hash=cat["inputs_hash"])
    else:
        out.update(run_id=art.id, model_id=cat.get("model_id"))
    return out


def report_created(result: Any, as_json: bool) -> None:
    summary = created_summary(result)
    if as_json:
        terminal.print_json(summary)
        return
    what = f"{summary['id']}" + (f"@v{summary['version']}" if "version" in summary else "")
    verb = "unchanged" if result.unchanged else "created"
    terminal.line(f"{verb} {summary['kind']} {what}")
    terminal.line(f"  {summary['path']}")
