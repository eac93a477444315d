"""FlowTime-Sim's own template format, loaded unchanged and converted to the model format.

An upstream template is one YAML file: ``metadata`` (id, title, description, version, tags),
``parameters`` (a list of ``{name, type, default, minimum|min, maximum|max, description,
allowedValues|enum}``; on an array the bounds apply to each item), and the model itself with
``${name}`` placeholders and the upstream spellings: a node's ``expression:`` (→ ``expr``), an
output's ``source:`` (→ ``series``) and ``filename:`` (→ ``as``). What FlowTime-Sim strips when
it generates a model is dropped too: nodes' ``dependencies`` and ``description``, outputs' ``id``
and ``description``. Placeholders are substituted in the *parsed* document, so a value can never
change its structure: ``${x}`` standing alone takes the parameter's type, inside a longer string
it is spliced in as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from flowtime_sim.errors import TemplateError, UserError
from flowtime_sim.markers import hookimpl
from flowtime_sim.types import ResolvedParameters, Template, TemplateManifest
from flowtime_sim.yamlsafe import yaml_problem

FLOWTIME_SIM_PLUGIN_API = ">=1,<2"
FORMAT = "flowtime-upstream"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TYPES = {"integer": "integer", "int": "integer", "number": "number", "double": "number",
          "float": "number", "string": "string", "boolean": "boolean", "bool": "boolean",
          "array": "array", "numberArray": "array"}
# Per section: upstream key -> model key (None: dropped).
_NODE_KEYS: dict[str, str | None] = {"expression": "expr", "dependencies": None,
                                     "description": None}
_OUTPUT_KEYS: dict[str, str | None] = {"source": "series", "filename": "as", "id": None,
                                       "description": None}


def load_upstream_file(path: Path) -> Template:
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except OSError as exc:
        raise UserError(f"cannot read template file {str(path)!r}: {exc.strerror or exc}"
                        ) from None
    except yaml.YAMLError as exc:
        raise UserError(f"template file {str(path)!r} is not valid YAML: {yaml_problem(exc)}"
                        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
        raise UserError(f"template file {str(path)!r} has no 'metadata' mapping; "
                        "is it a FlowTime-Sim template?")
    meta = doc["metadata"]
    try:
        manifest = TemplateManifest(
            id=str(meta.get("id", path.stem)).lower(),
            version=str(meta.get("version", "1.0.0")),
            title=str(meta.get("title") or meta.get("id") or path.stem),
            description=str(meta.get("description", "")),
            tags=tuple(str(t) for t in meta.get("tags") or ()),
            capabilities=tuple(str(c) for c in meta.get("capabilities") or ()),
            parameters=_schema(doc.get("parameters") or [], path),
        )
    except ValueError as exc:
        raise UserError(f"template file {str(path)!r}: {exc}") from None
    return Template(manifest, read_body=lambda: path.read_text(encoding="utf-8"),
                    format=FORMAT, origin=str(path))


def _schema(params: list[Any], path: Path) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for p in params:
        if not isinstance(p, dict) or "name" not in p:
            raise ValueError(f"every entry of 'parameters' needs a name (in {path.name})")
        prop: dict[str, Any] = {}
        if p.get("type") in _TYPES:
            prop["type"] = _TYPES[p["type"]]
        for src, dst in (("min", "minimum"), ("minimum", "minimum"), ("max", "maximum"),
                         ("maximum", "maximum"), ("default", "default"),
                         ("description", "description"), ("title", "title"),
                         ("allowedValues", "enum"), ("enum", "enum")):
            if src in p:
                prop[dst] = p[src]
        if prop.get("type") == "array":  # upstream bounds an array's items, not the array
            items = {k: prop.pop(k) for k in ("minimum", "maximum") if k in prop}
            prop["items"] = {"type": "number", **items}
        props[str(p["name"])] = prop
    required = [name for name, prop in props.items() if "default" not in prop]
    return {"type": "object", "additionalProperties": False, "properties": props,
            **({"required": required} if required else {})}


def convert(doc: Any, values: dict[str, Any]) -> Any:
    """Substitute placeholders, recursively."""
    if isinstance(doc, dict):
        return {k: convert(v, values) for k, v in doc.items()}
    if isinstance(doc, list):
        return [convert(v, values) for v in doc]
    if isinstance(doc, str):
        whole = _PLACEHOLDER.fullmatch(doc)
        if whole:
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: _text(values[m.group(1)]), doc)
    return doc


def _placeholders(doc: Any) -> set[str]:
    if isinstance(doc, dict):
        return set().union(*(_placeholders(v) for v in doc.values()))
    if isinstance(doc, list):
        return set().union(*(_placeholders(v) for v in doc))
    return set(_PLACEHOLDER.findall(doc)) if isinstance(doc, str) else set()


def _respell(items: Any, keys: dict[str, str | None]) -> Any:
    """Rename (or drop) the upstream keys of each mapping in the list ``items``."""
    if not isinstance(items, list):
        return items  # model validation reports it
    return [{keys.get(k, k): v for k, v in item.items() if keys.get(k, k) is not None}
            if isinstance(item, dict) else item for item in items]


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def render_upstream(template: Template, values: dict[str, Any]) -> str:
    doc = yaml.load(template.read_body(), Loader=_Loader)
    body = {k: v for k, v in doc.items() if k not in {"metadata", "parameters"}}
    missing = sorted(_placeholders(body) - set(values))
    if missing:
        raise TemplateError(f"template {template.id} {template.version} uses undeclared "
                            f"parameter(s) {', '.join(missing)}")
    model = convert(body, values)
    for section, keys in (("nodes", _NODE_KEYS), ("outputs", _OUTPUT_KEYS)):
        if section in model:
            model[section] = _respell(model[section], keys)
    grid = model.get("grid")
    if isinstance(grid, dict) and "binMinutes" in grid and "binSize" not in grid:
        grid["binSize"] = grid.pop("binMinutes")
        grid.setdefault("binUnit", "minutes")
    model = {"schemaVersion": 1, **{k: v for k, v in model.items() if k != "schemaVersion"}}
    return yaml.safe_dump(model, sort_keys=False, allow_unicode=True)


class UpstreamTemplates:
    """Offers the upstream templates in the given files and folders (``--templates-dir``)."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.paths = list(paths)

    @hookimpl
    def flowtime_templates(self) -> list[Template]:
        files: list[Path] = []
        for p in self.paths:
            if p.is_dir():
                files += sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            elif p.is_file():
                files.append(p)
            else:
                raise UserError(f"template path {str(p)!r} does not exist")
        return [load_upstream_file(f) for f in files]


@hookimpl
def flowtime_render_template(template: Template, parameters: ResolvedParameters) -> str | None:
    if template.format != FORMAT:
        return None
    return render_upstream(template, dict(parameters.values))
