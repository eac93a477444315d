"""``list``, ``show``, ``versions``, ``derive``, ``verify``, ``reindex``, ``gc``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import (
    EXIT_INTEGRITY,
    exit_with,
    index_option,
    json_option,
    make_flowtime,
    template_source_options,
    warn_failed_packs,
)
from flowtime_sim.cli.new_cmds import not_blank


def root_option(f: Any) -> Any:
    """``--root`` and, beside it, ``--index``."""
    return index_option(
        click.option(
            "--root",
            "root",
            metavar="DIR|URL",
            help="Artifacts root (default: $FLOWTIME_ARTIFACTS_ROOT or ./artifacts).",
        )(f)
    )


@click.command("list")
@click.option(
    "--kind", type=click.Choice(["model", "run", "sweep"]), help="Only models, runs or sweeps."
)
@click.option("--template", help="Only models made from this template id.")
@click.option("--tag", "tags", multiple=True, help="Only artifacts with this tag. Repeatable.")
@click.option("--owner", help="Only artifacts of this owner.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--cursor", help="Continue after a previous page (its next_cursor).")
@click.option("--all-versions", is_flag=True, help="Every model version, not just the newest.")
@root_option
@json_option
def list_cmd(
    kind: str | None,
    template: str | None,
    tags: tuple[str, ...],
    owner: str | None,
    limit: int,
    cursor: str | None,
    all_versions: bool,
    root: str | None,
    as_json: bool,
) -> None:
    """List models, runs and sweeps, newest first."""
    from flowtime_sim.registry.index import Query

    page = make_flowtime().list(
        Query(
            kind=kind,
            template=template,
            tags=tags,
            owner=owner,
            limit=limit,
            cursor=cursor,
            all_versions=all_versions,
        ),
        root=root,
    )
    if as_json:
        terminal.print_json(
            {"artifacts": page.items, "total": page.total, "next_cursor": page.next_cursor}
        )
        return
    if not page.items:
        terminal.line(
            "No artifacts match."
            if page.total == 0 and (kind or template or tags or owner)
            else "No artifacts yet. Create one with 'flowtime-sim new --template T'."
        )
        return
    rows = [
        (
            c["id"],
            c["kind"],
            f"v{c['version']}" if c["kind"] == "model" else "",
            c.get("name", ""),
            c.get("template_id") or c.get("model_id") or "(file)",
            ", ".join(c.get("tags", [])),
            c.get("visibility", ""),
            c["created_utc"][:16].replace("T", " "),
        )
        for c in page.items
    ]
    terminal.table(
        None,
        ["id", "kind", "ver", "name", "from", "tags", "visibility", "created (UTC)"],
        rows,
        keep=("id", "created (UTC)"),
    )
    shown = f"{len(page.items)} of {page.total}"
    terminal.line(shown + (f"; next page: --cursor {page.next_cursor}" if page.next_cursor else ""))


@click.command("show")
@click.argument("ref", metavar="ID[@vN]")
@root_option
@json_option
def show(ref: str, root: str | None, as_json: bool) -> None:
    """Show a model version (newest by default), a run or a sweep."""
    from flowtime_sim.errors import NotFoundError

    ft = make_flowtime()
    try:
        art = ft.artifact(ref, root=root)
    except NotFoundError:
        from flowtime_sim.cli.scenario_cmds import show_sweep

        if not show_sweep(ft, ref, root, as_json):
            raise
        return
    cat = dict(art.catalog)
    runs = ft.registry(root).runs_of(art.id) if cat["kind"] == "model" else []
    summaries = _run_summary(ft, art, root) if cat["kind"] == "run" else []
    if as_json:
        terminal.print_json(
            {**cat, "runs": [r["id"] for r in runs]}
            if cat["kind"] == "model"
            else {**cat, "summary": [s.as_dict() for s in summaries]}
        )
        return
    pairs: list[tuple[str, Any]] = [
        (k, _short(v)) for k, v in cat.items() if k not in {"parameters", "topology", "files"}
    ]
    terminal.key_values(pairs)
    if cat["kind"] == "model":
        terminal.line()
        terminal.table(
            "Parameters", ["name", "value"], [(k, _short(v)) for k, v in cat["parameters"].items()]
        )
        terminal.line(
            f"topology: {len(cat['topology']['nodes'])} nodes, "
            f"{len(cat['topology']['edges'])} edges"
        )
        terminal.line("runs: " + (", ".join(r["id"] for r in runs) or "none"))
    else:
        terminal.line()
        terminal.table(
            "Series",
            ["series", "total", "min", "max", "mean", "peak bin"],
            [
                (
                    s.series,
                    _number(s.total),
                    _number(s.min),
                    _number(s.max),
                    _number(s.mean),
                    f"{s.peak_bin}" + (f" ({s.peak_time})" if s.peak_time else ""),
                )
                for s in summaries
            ],
            keep=("series",),
        )
    terminal.line("files: " + ", ".join(sorted(cat["files"])))


def _run_summary(ft: Any, art: Any, root: str | None) -> list[Any]:
    from flowtime_sim.run_summary import summarise_binned_csv

    data = ft.read_file(art, "binned_v0.csv", root=root)
    return summarise_binned_csv(data.splitlines())


def _number(value: float) -> str:
    return f"{value:.6g}"


@click.command("versions")
@click.argument("model_id", metavar="ID")
@root_option
@json_option
def versions(model_id: str, root: str | None, as_json: bool) -> None:
    """List the versions of a model."""
    found = make_flowtime().versions(model_id, root=root)
    if as_json:
        terminal.print_json(
            [
                {
                    "version": v.version,
                    "template_version": v.catalog["template_version"],
                    "created_utc": v.catalog["created_utc"],
                    "inputs_hash": v.catalog["inputs_hash"],
                    "derived_from": v.catalog.get("derived_from"),
                }
                for v in found
            ]
        )
        return
    terminal.table(
        f"{model_id}",
        ["version", "template version", "created (UTC)", "derived from"],
        [
            (
                f"v{v.version}",
                v.catalog["template_version"],
                v.catalog["created_utc"],
                v.catalog.get("derived_from", ""),
            )
            for v in found
        ],
    )


@click.command("derive")
@click.option("--from", "source", required=True, metavar="ID[@vN]", help="The model to start from.")
@click.option(
    "--name",
    "-n",
    callback=not_blank,
    help="Display name of the new model (default: the source's).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Change a parameter (value read as YAML). Repeatable; wins over --params.",
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML or JSON file of parameter values to change.",
)
@click.option(
    "--version",
    "version",
    help="Template version to render with (default: the source's), e.g. a newer one.",
)
@click.option("--tag", "tags", multiple=True, help="Extra tag. Repeatable.")
@click.option(
    "--visibility",
    type=click.Choice(["private", "team", "public"]),
    help="Who may see the new model in the service (default: the source's).",
)
@click.option("--out", "--root", "root", metavar="DIR|URL", help="Artifacts root.")
@template_source_options
@index_option
@json_option
def derive(
    source: str,
    name: str | None,
    sets: tuple[str, ...],
    params_file: Path | None,
    version: str | None,
    tags: tuple[str, ...],
    visibility: str | None,
    root: str | None,
    template_dirs: tuple[Path, ...],
    template_files: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Create a new model from an existing one, with some parameters changed."""
    from flowtime_sim.cli.artifact_output import report_created
    from flowtime_sim.parameter_input import parameter_sources

    given = parameter_sources(params_file, sets)
    ft = make_flowtime(template_dirs, template_files)
    warn_failed_packs(ft)
    result = ft.derive(
        source,
        name=name,
        sets=dict(given.sets),
        params=dict(given.file),
        version=version,
        tags=tags,
        visibility=visibility,
        root=root,
    )
    report_created(result, as_json)


@click.command("delete")
@click.argument("ref", metavar="ID[@vN]")
@click.option("--force", is_flag=True, help="Delete a model even while runs reference it.")
@root_option
@json_option
def delete(ref: str, force: bool, root: str | None, as_json: bool) -> None:
    """Hide a model version, a whole model, a run or a sweep at once; gc purges it later.
    Deleting a sweep keeps its models and runs."""
    hidden = make_flowtime().delete(ref, force=force, root=root)
    if as_json:
        terminal.print_json({"deleted": hidden})
        return
    for key in hidden:
        terminal.line(
            f"deleted {key} (files are purged by 'flowtime-sim gc' after its grace period)"
        )


@click.command("verify")
@root_option
@json_option
def verify(root: str | None, as_json: bool) -> None:
    """Check every stored byte: each file against its catalog, each catalog against the hash
    recorded when it was published, each published folder still there. Exit 3 naming each
    problem."""
    from flowtime_sim.errors import IntegrityError

    registry = make_flowtime().registry(root)
    checked, problems = registry.verify()
    if as_json:
        terminal.print_json({"checked": checked, "problems": problems})
    else:
        terminal.line(f"checked {checked} artifact folder(s) in {registry.storage.url}")
        for p in problems:
            terminal.error(p)
    if problems:
        if as_json:
            exit_with(EXIT_INTEGRITY)
        raise IntegrityError(
            f"{len(problems)} file(s) do not match what was published", bad_files=problems
        )


@click.command("reindex")
@root_option
@json_option
def reindex(root: str | None, as_json: bool) -> None:
    """Rebuild the listing index from the stored catalogs. A catalog that differs from the
    hash recorded when it was published is left out and named (exit 3)."""
    from flowtime_sim.errors import IntegrityError

    registry = make_flowtime().registry(root)
    refused: list[str] = []
    count = registry.reindex(refused=refused)
    if as_json:
        terminal.print_json({"indexed": count, "refused": refused})
    else:
        terminal.line(f"indexed {count} artifact(s) from {registry.storage.url}")
        for problem in refused:
            terminal.error(f"not indexed: {problem}")
    if refused:
        if as_json:
            raise SystemExit(3)
        raise IntegrityError(
            f"{len(refused)} artifact(s) left out of the listing; restore "
            "them from a backup or delete them (see 'flowtime-sim verify')",
            bad_files=refused,
        )


@click.command("gc")
@click.option(
    "--grace",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Only purge what was deleted, or left in staging, this many seconds ago or earlier.",
)
@root_option
@json_option
def gc(grace: float, root: str | None, as_json: bool) -> None:
    """Purge deleted artifacts and staging left by interrupted writers.

    'delete' only hides a model or run; gc removes its files once the grace period has
    passed (the version number stays taken).
    """
    removed = make_flowtime().registry(root).gc(grace)
    if as_json:
        terminal.print_json({"removed": removed})
    else:
        purged = sum("/" in item for item in removed)  # artifact keys; staging names are plain
        terminal.line(
            f"purged {purged} deleted artifact(s) and {len(removed) - purged} "
            "abandoned staging folder(s)"
        )


def _short(value: Any) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 100 else text[:97] + "..."
