"""``run`` and ``preview``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import index_option, json_option, make_flowtime
from flowtime_sim.errors import UserError


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on a terminal; nothing when output is piped."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(console=terminal.console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@click.command("run")
@click.option(
    "--model", "model_ref", metavar="ID[@vN]", help="A stored model (newest version by default)."
)
@click.option(
    "--file",
    "model_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A model.yaml file instead of a stored model.",
)
@click.option(
    "--seed",
    type=int,
    help="Seed for sample mode (default: the model's rng.seed, "
    "else 0); expected mode does not use it.",
)
@click.option(
    "--sample",
    is_flag=True,
    help="Draw PMF nodes with PCG32 instead of using their expected values.",
)
@click.option("--out", "--root", "root", metavar="DIR|URL", help="Artifacts root.")
@click.option(
    "--format",
    "formats",
    type=click.Choice(["flowtime"]),
    multiple=True,
    help="Also write the run in FlowTime's run layout (run.json, manifest.json, "
    "series/...), under --flowtime-dir.",
)
@click.option(
    "--flowtime-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("flowtime-runs"),
    show_default=True,
    help="Where --format flowtime writes its run folder (e.g. FlowTime's data/runs).",
)
@index_option
@json_option
def run(
    model_ref: str | None,
    model_file: Path | None,
    seed: int | None,
    sample: bool,
    root: str | None,
    formats: tuple[str, ...],
    flowtime_dir: Path,
    as_json: bool,
) -> None:
    """Run a model into a run artifact (runs/{run_id}/binned_v0.csv)."""
    from flowtime_sim.cli.artifact_output import created_summary, report_created

    if (model_ref is None) == (model_file is None):
        raise UserError("give exactly one of --model ID and --file model.yaml")
    if seed is not None and not sample:
        terminal.note("--seed only matters with --sample; the expected-mode run ignores it")
    ft = make_flowtime()
    mode = "sample" if sample else "expected"
    with progress_bar("running") as progress:
        if model_ref is not None:
            result = ft.run_model(model_ref, seed=seed, mode=mode, root=root, progress=progress)
        else:
            assert model_file is not None
            result = ft.run_text(
                _read(model_file),
                name=model_file.stem,
                seed=seed,
                mode=mode,
                root=root,
                progress=progress,
            )
    for warning in result.artifact.catalog.get("warnings", []):
        terminal.warn(str(warning))
    if "flowtime" not in formats:
        report_created(result, as_json)
        return
    from flowtime_sim.flowtime_layout import export_run

    folder = export_run(
        ft,
        result.artifact,
        flowtime_dir,
        root=root,
        model_text=_read(model_file) if model_file is not None else None,
    )
    if as_json:
        terminal.print_json({**created_summary(result), "flowtime_run": str(folder)})
        return
    report_created(result, as_json)
    terminal.line(f"  FlowTime run: {folder}")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"model file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read model file {str(path)!r}: {exc}") from None


@click.command("preview")
@click.argument("ref", metavar="ID[@vN]", required=False)
@click.option(
    "--file",
    "model_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Preview a model.yaml file instead of a stored model.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the preview here (default: standard output).",
)
@click.option("--root", metavar="DIR|URL", help="Artifacts root.")
@json_option
@index_option
def preview(
    ref: str | None, model_file: Path | None, out: Path | None, root: str | None, as_json: bool
) -> None:
    """Render the dependency-graph preview (SVG) of a stored model or a model file.

    With --json: the preview's media type and file name, and its content (or, with --out,
    the path it was written to and its size).
    """
    from flowtime_sim.model import parse_model

    if (ref is None) == (model_file is None):
        raise UserError("give exactly one of ID[@vN] and --file model.yaml")
    ft = make_flowtime()
    if ref is not None:
        registry = ft.registry(root)
        art = ft.model(ref, root=root)
        text, title = registry.read_file(art, "model.yaml").decode(), str(art.catalog["name"])
    else:
        assert model_file is not None
        text, title = _read(model_file), model_file.stem
    result = ft.preview(parse_model(text, origin=title), title)
    described = {"media_type": result.media_type, "filename": result.filename}
    if out is None:
        if as_json:
            terminal.print_json({**described, **_content(result.content)})
        else:
            sys.stdout.buffer.write(result.content)
        return
    out.write_bytes(result.content)
    if as_json:
        terminal.print_json({**described, "path": str(out), "bytes": len(result.content)})
    else:
        terminal.line(f"wrote {out} ({result.media_type}, {len(result.content)} bytes)")


def _content(data: bytes) -> dict[str, str]:
    """A preview's bytes in JSON: as text (an SVG), else base64 (a plugin's PNG)."""
    try:
        return {"content": data.decode("utf-8")}
    except UnicodeDecodeError:
        import base64

        return {"content": base64.b64encode(data).decode("ascii"), "encoding": "base64"}
