"""``templates`` and ``templates show``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import (
    FlowtimeGroup,
    json_option,
    make_flowtime,
    template_source_options,
    warn_failed_packs,
)


def template_summary(tpl: Any) -> dict[str, Any]:
    m = tpl.manifest
    return {
        "id": tpl.id,
        "ref": f"{tpl.plugin}:{tpl.id}",
        "version": tpl.version,
        "title": m.title,
        "description": m.description,
        "tags": list(m.tags),
        "capabilities": list(m.capabilities),
        "format": tpl.format,
        "pack": tpl.pack.as_dict() if tpl.pack else None,
    }


@click.group("templates", cls=FlowtimeGroup, invoke_without_command=True)
@template_source_options
@json_option
@click.pass_context
def templates(
    ctx: click.Context,
    template_dirs: tuple[Path, ...],
    template_files: tuple[Path, ...],
    as_json: bool,
) -> None:
    """List the templates of every installed pack."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = (template_dirs, template_files)
        return
    ft = make_flowtime(template_dirs, template_files)
    warn_failed_packs(ft)
    index = ft.templates
    items = index.latest()
    for problem in index.problems:
        terminal.warn(problem)
    if as_json:
        terminal.print_json([template_summary(t) for t in items])
        return
    if not items:
        terminal.line(
            "No templates installed. Install a pack, e.g. 'pip install flowtime-pack-checkout'."
        )
        return
    ambiguous = {t.id for t in items if len(index.providers(t.id)) > 1}
    rows = [
        (
            f"{t.plugin}:{t.id}" if t.id in ambiguous else t.id,
            t.version,
            t.manifest.title,
            ", ".join(t.manifest.tags),
            t.plugin,
        )
        for t in items
    ]
    terminal.table(
        None,
        ["template", "version", "title", "tags", "pack"],
        rows,
        keep=("template", "version", "pack"),
    )


@templates.command("show")
@click.argument("template_ref", metavar="TEMPLATE")
@click.option("--version", "version", help="Template version (default: newest).")
@template_source_options
@json_option
@click.pass_context
def show(
    ctx: click.Context,
    template_ref: str,
    version: str | None,
    template_dirs: tuple[Path, ...],
    template_files: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Show a template and its parameters."""
    dirs, files = ctx.obj or ((), ())
    ft = make_flowtime(dirs + template_dirs, files + template_files)
    warn_failed_packs(ft)
    tpl = ft.template(template_ref, version)
    others = [t.version for t in ft.templates.by_id[tpl.id] if t.plugin == tpl.plugin]
    if as_json:
        terminal.print_json(
            {**template_summary(tpl), "versions": others, "parameters": tpl.manifest.parameters}
        )
        return
    m = tpl.manifest
    terminal.key_values(
        [
            ("template", f"{tpl.id} {tpl.version}"),
            ("title", m.title),
            ("pack", f"{tpl.pack.name} {tpl.pack.version}" if tpl.pack else ""),
            ("versions", ", ".join(others)),
            ("tags", ", ".join(m.tags)),
            ("capabilities", ", ".join(m.capabilities)),
        ]
    )
    if m.description:
        terminal.line()
        terminal.line(m.description)
    props = m.parameters.get("properties") or {}
    required = set(m.parameters.get("required") or ())
    rows = [
        (
            name,
            _type(spec),
            _compact(spec.get("default", "(required)" if name in required else "")),
            _rule(spec),
            spec.get("description", ""),
        )
        for name, spec in props.items()
    ]
    terminal.line()
    terminal.table("Parameters", ["name", "type", "default", "allowed", "description"], rows)


def _type(spec: dict[str, Any]) -> str:
    t = spec.get("type", "any")
    return " | ".join(t) if isinstance(t, list) else str(t)


def _compact(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _rule(spec: dict[str, Any]) -> str:
    parts = []
    if "enum" in spec:
        parts.append("one of " + ", ".join(map(str, spec["enum"])))
    for key, sym in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if key in spec:
            parts.append(f"{sym} {spec[key]}")
    for key, label in (
        ("minItems", "min items"),
        ("maxItems", "max items"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("pattern", "pattern"),
    ):
        if key in spec:
            parts.append(f"{label} {spec[key]}")
    return ", ".join(parts)
