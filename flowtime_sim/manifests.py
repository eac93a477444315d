"""Template manifests on disk: one folder per template version, a ``template.yaml`` and a body.

Read without importing the pack that ships them (``flowtime_pack.toml``), and by packs written
in Python through :func:`templates_from_package`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flowtime_sim.types import Template, TemplateManifest
from flowtime_sim.yaml_dialect import YamlError, load_yaml

MANIFEST_NAME = "template.yaml"


def load_manifest_file(path: Path) -> Template:
    """Read one ``template.yaml`` (and name the body file it points to) as a :class:`Template`."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read template manifest: {exc}") from None
    except YamlError as exc:
        raise ValueError(f"{path}: template manifest is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a template manifest must be a mapping")
    known = {"id", "version", "title", "description", "tags", "capabilities", "parameters", "body"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"{path}: unknown manifest key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(known))}"
        )
    try:
        manifest = TemplateManifest(
            id=str(data["id"]),
            version=str(data["version"]),
            title=str(data.get("title", "")),
            description=str(data.get("description", "")).strip(),
            tags=tuple(str(t) for t in data.get("tags") or ()),
            capabilities=tuple(str(c) for c in data.get("capabilities") or ()),
            parameters=data.get("parameters") or {"type": "object"},
        )
    except KeyError as exc:
        raise ValueError(f"{path}: manifest lacks required key {exc.args[0]!r}") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    body = path.parent / str(data.get("body", "model.yaml.j2"))
    if not body.is_file():
        raise ValueError(f"{path}: body file {body.name!r} not found beside the manifest")
    return Template(
        manifest=manifest,
        read_body=lambda: body.read_text(encoding="utf-8"),
        format="jinja2",
        origin=str(body),
    )


def templates_in_folder(folder: Path) -> list[Template]:
    """Every template version under ``folder``: one sub-folder holding a manifest each.

    While the host collects its template index, a manifest that cannot be read is recorded
    and skipped (see :mod:`flowtime_sim.skipped_templates`); otherwise it raises.
    """
    from flowtime_sim.skipped_templates import skip

    found = []
    for path in sorted(folder.glob(f"*/{MANIFEST_NAME}")):
        try:
            found.append(load_manifest_file(path))
        except Exception as exc:  # whatever the YAML layer raises, it costs this folder only
            if not skip(path, exc):
                raise
    return found


def templates_from_package(package: str, folder: str = "templates") -> list[Template]:
    """The templates shipped as package data of ``package`` (for packs written in Python)."""
    from importlib.resources import files

    return templates_in_folder(Path(str(files(package).joinpath(folder))))
