"""``new`` and ``derive``: create model artifacts (or, with ``--out FILE.yaml``, a model file)."""

from __future__ import annotations

from pathlib import Path

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import index_option, json_option, make_flowtime, template_source_options
from flowtime_sim.errors import UserError

VISIBILITY = click.Choice(["private", "team", "public"])


def _write_model_file(path: Path, text: str) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("new")
@click.option("--template", "-t", "template_ref", metavar="TEMPLATE",
              help="Template id, or pack:id when several packs offer one id.")
@click.option("--name", "-n", help="Display name; also the slug of the model id.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Set a parameter (value read as YAML). Repeatable; wins over --params.")
@click.option("--params", "params_file", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML or JSON file of parameter values.")
@click.option("--tag", "tags", multiple=True, help="Extra tag for the catalog. Repeatable.")
@click.option("--version", "version", help="Template version (default: newest).")
@click.option("--visibility", type=VISIBILITY, default=None,
              help="Who may see the artifact in the service (default: private).")
@click.option("--out", "out", metavar="DIR|FILE.yaml",
              help="Artifacts root, or a .yaml/.yml file to write only the model file.")
@click.option("--root", "root", metavar="DIR|URL", help="Artifacts root (same as --out DIR).")
@index_option
@template_source_options
@json_option
def new(template_ref: str | None, name: str | None, sets: tuple[str, ...],
        params_file: Path | None, tags: tuple[str, ...], version: str | None,
        visibility: str | None, out: str | None, root: str | None,
        template_dirs: tuple[Path, ...], template_files: tuple[Path, ...],
        as_json: bool) -> None:
    """Render a template into a model artifact (or a model file with --out FILE.yaml)."""
    from flowtime_sim.parameter_input import parameter_sources

    ft = make_flowtime(template_dirs, template_files)
    if template_ref is None:
        template_ref = _only_template_file(ft, template_files)
    sources = parameter_sources(params_file, sets)
    if out and out.lower().endswith((".yaml", ".yml")):
        if root:
            raise UserError("--root cannot be combined with --out FILE.yaml")
        rendered = ft.render(template_ref, sources, version=version)
        path = Path(out)
        _write_model_file(path, rendered.text)
        if as_json:
            terminal.print_json({"path": str(path), "template_id": rendered.template.id,
                                 "template_version": rendered.template.version,
                                 "parameters": dict(rendered.parameters.values)})
        else:
            terminal.line(f"wrote {path} (template {rendered.template.id} "
                          f"{rendered.template.version})")
        return
    from flowtime_sim.cli.artifact_output import report_created

    result = ft.create_model(template_ref, sources, name=name, tags=list(tags),
                             version=version, visibility=visibility,
                             root=_root(out, root))
    report_created(result, as_json)


def _root(out: str | None, root: str | None) -> str | None:
    if out and root and out != root:
        raise UserError(f"--out {out!r} and --root {root!r} disagree; give one of them")
    return out or root


def _only_template_file(ft: object, template_files: tuple[Path, ...]) -> str:
    from flowtime_sim.core import Flowtime

    assert isinstance(ft, Flowtime)
    if len(template_files) == 1:
        from flowtime_sim.builtin.upstream import load_upstream_file

        return f"templates-dir:{load_upstream_file(template_files[0]).id}"
    raise UserError("missing --template; see 'flowtime-sim templates' for the choices",
                    field="template")
