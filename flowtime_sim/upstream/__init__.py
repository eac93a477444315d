"""FlowTime-Sim's own template files, loaded unchanged and converted to models (SPEC §4).

Two generations of them:

- **2025**: ``metadata``, a ``parameters`` list and the model with ``${name}`` placeholders and
  the old spellings — a node's ``expression:`` (→ ``expr``), an output's ``source:``
  (→ ``series``) and ``filename:`` (→ ``as``); nodes' ``dependencies``/``description`` and
  outputs' ``id``/``description`` are dropped, ``grid.binMinutes`` becomes ``binSize``
  minutes and ``schemaVersion: 1`` is added;
- **today's** (it has a ``window`` or a ``generator``): see
  :mod:`flowtime_sim.upstream.current_format`.

Placeholders may stand anywhere (:mod:`flowtime_sim.upstream.placeholders`); parameters are
declared as in :mod:`flowtime_sim.upstream.parameters`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowtime_sim.builtin.upstream import FORMAT
from flowtime_sim.errors import TemplateError, UserError
from flowtime_sim.types import Template, TemplateManifest
from flowtime_sim.upstream.current_format import build_model, expr_text, is_current_format
from flowtime_sim.upstream.documents import dump_model, load_template_text
from flowtime_sim.upstream.parameters import parameters_schema
from flowtime_sim.upstream.placeholders import hide_placeholders, substitute_text

__all__ = ["FORMAT", "load_upstream_file", "render_upstream"]

# Per section: 2025 key -> model key (None: dropped).
_NODE_KEYS: dict[str, str | None] = {
    "expression": "expr",
    "dependencies": None,
    "description": None,
}
_OUTPUT_KEYS: dict[str, str | None] = {
    "source": "series",
    "filename": "as",
    "id": None,
    "description": None,
}


def load_upstream_file(path: Path) -> Template:
    """The template in ``path``: its manifest now, its body when rendered."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read template file {str(path)!r}: {exc.strerror or exc}") from None
    hidden, sentinels = hide_placeholders(text)
    try:
        doc = sentinels.restore(load_template_text(hidden)[0])
    except ValueError as exc:
        raise UserError(f"template file {str(path)!r} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
        raise UserError(
            f"template file {str(path)!r} has no 'metadata' mapping; is it a FlowTime-Sim template?"
        )
    meta = doc["metadata"]
    try:
        if is_current_format(doc):
            missing = [k for k in ("id", "title", "version") if meta.get(k) in (None, "")]
            if missing:
                raise ValueError(f"metadata.{missing[0]} is required")
        description = str(meta.get("description") or "")
        if meta.get("narrative"):
            description = f"{description}\n\n{meta['narrative']}".strip()
        manifest = TemplateManifest(
            id=str(meta.get("id", path.stem)).lower(),
            version=str(meta.get("version", "1.0.0")),
            title=str(meta.get("title") or meta.get("id") or path.stem),
            description=description,
            tags=tuple(str(t) for t in meta.get("tags") or ()),
            capabilities=tuple(str(c) for c in meta.get("capabilities") or ()),
            parameters=parameters_schema(doc.get("parameters")),
        )
    except ValueError as exc:
        raise UserError(f"template file {str(path)!r}: {exc}") from None
    return Template(
        manifest,
        read_body=lambda: path.read_text(encoding="utf-8"),
        format=FORMAT,
        origin=str(path),
    )


def render_upstream(template: Template, values: dict[str, Any]) -> str:
    """The model YAML of ``template`` with the resolved parameter ``values``."""
    text = template.read_body()
    hidden, sentinels = hide_placeholders(text)
    where = f"template {template.id} {template.version}"
    try:
        doc, plain = load_template_text(hidden)
    except ValueError as exc:
        raise TemplateError(f"{where} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise TemplateError(f"{where} is not a mapping of sections")
    body = {k: v for k, v in doc.items() if k not in ("metadata", "parameters")}
    missing = sorted(sentinels.placeholders(body) - set(values))
    if missing:
        raise TemplateError(f"{where} uses undeclared parameter(s) {', '.join(missing)}")
    body = sentinels.fill(body, values, plain)
    if not is_current_format(doc):
        return dump_model(_convert_2025(body))
    try:
        model = build_model(
            body,
            parameters=values,
            template_id=template.id,
            template_version=template.version,
            base=Path(template.origin).parent,
            substituted_text=substitute_text(text, values),
        )
    except ValueError as exc:
        raise TemplateError(f"{where}: {exc}") from None
    return dump_model(model)


def _convert_2025(model: dict[str, Any]) -> dict[str, Any]:
    for section, keys in (("nodes", _NODE_KEYS), ("outputs", _OUTPUT_KEYS)):
        if section in model:
            model[section] = _respell(model[section], keys)
    for node in model.get("nodes") or ():
        if isinstance(node, dict):
            node.update(expr_text(node))
    grid = model.get("grid")
    if isinstance(grid, dict) and "binMinutes" in grid and "binSize" not in grid:
        grid["binSize"] = grid.pop("binMinutes")
        grid.setdefault("binUnit", "minutes")
    return {"schemaVersion": 1, **{k: v for k, v in model.items() if k != "schemaVersion"}}


def _respell(items: Any, keys: dict[str, str | None]) -> Any:
    """Rename (or drop) the 2025 keys of each mapping in the list ``items``."""
    if not isinstance(items, list):
        return items  # model validation reports it
    return [
        {keys.get(k, k): v for k, v in item.items() if keys.get(k, k) is not None}
        if isinstance(item, dict)
        else item
        for item in items
    ]
