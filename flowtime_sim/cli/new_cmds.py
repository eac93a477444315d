"""``new`` and ``derive``: create model artifacts (or, with ``--out FILE.yaml``, a model file)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import (
    index_option,
    json_option,
    make_flowtime,
    template_source_options,
    warn_failed_packs,
)
from flowtime_sim.errors import UserError

VISIBILITY = click.Choice(["private", "team", "public"])
#: Suffixes of files ``--out`` cannot write: only a model file (.yaml/.yml) or a root folder.
FILE_SUFFIXES = frozenset(
    {
        ".json",
        ".csv",
        ".txt",
        ".svg",
        ".png",
        ".html",
        ".htm",
        ".toml",
        ".xml",
        ".md",
        ".j2",
        ".py",
        ".zip",
        ".gz",
        ".tgz",
        ".tar",
    }
)


def not_blank(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A ``--name`` given empty is a mistake, not a request for the default."""
    if value is not None and not value.strip():
        raise click.BadParameter(
            "must not be empty; leave the option out for the default", ctx=ctx, param=param
        )
    return value


def _write_model_file(path: Path, text: str) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    import os
    import tempfile

    from flowtime_sim.filesystem import file_in_the_way

    blocker = file_in_the_way(path)
    if blocker is not None:
        raise UserError(
            f"cannot write the model file {str(path)!r}: {str(blocker)!r} is a file, not a folder",
            field="out",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise UserError(
            f"cannot write the model file {str(path)!r}: {exc.strerror}", field="out"
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(
            f"cannot write the model file {str(path)!r}: {exc.strerror}", field="out"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("new")
@click.option(
    "--template",
    "-t",
    "template_ref",
    metavar="TEMPLATE",
    help="Template id, or pack:id when several packs offer one id.",
)
@click.option(
    "--name", "-n", callback=not_blank, help="Display name; also the slug of the model id."
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a parameter (value read as YAML). Repeatable; wins over --params.",
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML or JSON file of parameter values.",
)
@click.option("--tag", "tags", multiple=True, help="Extra tag for the catalog. Repeatable.")
@click.option("--version", "version", help="Template version (default: newest).")
@click.option(
    "--visibility",
    type=VISIBILITY,
    default=None,
    help="Who may see the artifact in the service (default: private).",
)
@click.option(
    "--out",
    "out",
    metavar="DIR|FILE.yaml",
    help="Artifacts root, or a .yaml/.yml file to write only the model file.",
)
@click.option("--root", "root", metavar="DIR|URL", help="Artifacts root (same as --out DIR).")
@click.option(
    "--keep-rendered",
    "keep_rendered",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the rendered model text to FILE, even when it is invalid "
    "(to see what a template made).",
)
@index_option
@template_source_options
@json_option
def new(
    template_ref: str | None,
    name: str | None,
    sets: tuple[str, ...],
    params_file: Path | None,
    tags: tuple[str, ...],
    version: str | None,
    visibility: str | None,
    out: str | None,
    root: str | None,
    keep_rendered: Path | None,
    template_dirs: tuple[Path, ...],
    template_files: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Render a template into a model artifact (or a model file with --out FILE.yaml)."""
    from flowtime_sim.kept_models import keeping_rendered_in

    with keeping_rendered_in(keep_rendered) if keep_rendered else contextlib.nullcontext():
        _new(
            template_ref,
            name,
            sets,
            params_file,
            tags,
            version,
            visibility,
            out,
            root,
            template_dirs,
            template_files,
            as_json,
        )


def _new(
    template_ref: str | None,
    name: str | None,
    sets: tuple[str, ...],
    params_file: Path | None,
    tags: tuple[str, ...],
    version: str | None,
    visibility: str | None,
    out: str | None,
    root: str | None,
    template_dirs: tuple[Path, ...],
    template_files: tuple[Path, ...],
    as_json: bool,
) -> None:
    from flowtime_sim.parameter_input import parameter_sources

    model_file = bool(out and out.lower().endswith((".yaml", ".yml")))
    _check_out(out, model_file, name=name, tags=tags, visibility=visibility)
    if template_ref is None and len(template_files) != 1:
        raise click.UsageError("missing --template; see 'flowtime-sim templates' for the choices")
    ft = make_flowtime(template_dirs, template_files)
    warn_failed_packs(ft)
    if template_ref is None:
        template_ref = _only_template_file(template_files[0])
    sources = parameter_sources(params_file, sets)
    if model_file:
        assert out is not None
        if root:
            raise UserError("--root cannot be combined with --out FILE.yaml")
        rendered = ft.render(template_ref, sources, version=version)
        path = Path(out)
        _write_model_file(path, rendered.text)
        if as_json:
            terminal.print_json(
                {
                    "path": str(path),
                    "template_id": rendered.template.id,
                    "template_version": rendered.template.version,
                    "parameters": dict(rendered.parameters.values),
                }
            )
        else:
            terminal.line(
                f"wrote {path} (template {rendered.template.id} {rendered.template.version})"
            )
        return
    from flowtime_sim.cli.artifact_output import report_created

    result = ft.create_model(
        template_ref,
        sources,
        name=name,
        tags=list(tags),
        version=version,
        visibility=visibility,
        root=_root(out, root),
    )
    report_created(result, as_json)


def _check_out(
    out: str | None,
    model_file: bool,
    *,
    name: str | None,
    tags: tuple[str, ...],
    visibility: str | None,
) -> None:
    """Usage errors of ``--out``: a file it cannot write, options a model file cannot keep."""
    from flowtime_sim.storage import scheme_of

    if out is None:
        return
    if model_file:
        given = [
            opt
            for opt, value in (("--name", name), ("--tag", tags), ("--visibility", visibility))
            if value
        ]
        if given:
            raise click.UsageError(
                f"{', '.join(given)} only apply to a stored model; --out {out} writes only the "
                "model file (give --out a folder, or leave them out)"
            )
    elif (
        scheme_of(out) == "file"
        and Path(out).suffix.lower() in FILE_SUFFIXES
        and not Path(out).is_dir()
    ):
        raise click.BadParameter(
            f"{out!r} looks like a {Path(out).suffix} file; --out writes "
            "a model file ending in .yaml or .yml, or an artifacts root "
            "folder",
            param_hint="'--out'",
        )


def _root(out: str | None, root: str | None) -> str | None:
    if out and root and out != root:
        raise UserError(f"--out {out!r} and --root {root!r} disagree; give one of them")
    return out or root


def _only_template_file(template_file: Path) -> str:
    """The reference of the one template in the one ``--template-file`` given."""
    from flowtime_sim.upstream import load_upstream_file

    return f"templates-dir:{load_upstream_file(template_file).id}"
