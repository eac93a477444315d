"""``list``, ``show``, ``versions``, ``derive``, ``verify``, ``reindex``, ``gc``."""

from __future__ import annotations

from typing import Any

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import (
    EXIT_INTEGRITY,
    exit_with,
    index_option,
    json_option,
    make_flowtime,
)


def root_option(f: Any) -> Any:
    """``--root`` and, beside it, ``--index``."""
    return index_option(click.option(
        "--root", "root", metavar="DIR|URL",
        help="Artifacts root (default: $FLOWTIME_ARTIFACTS_ROOT or ./artifacts).")(f))


@click.command("list")
@click.option("--kind", type=click.Choice(["model", "run"]), help="Only models or only runs.")
@click.option("--template", help="Only models made from this template id.")
@click.option("--tag", "tags", multiple=True, help="Only artifacts with this tag. Repeatable.")
@click.option("--owner", help="Only artifacts of this owner.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--cursor", help="Continue after a previous page (its next_cursor).")
@click.option("--all-versions", is_flag=True, help="Every model version, not just the newest.")
@root_option
@json_option
def list_cmd(kind: str | None, template: str | None, tags: tuple[str, ...], owner: str | None,
             limit: int, cursor: str | None, all_versions: bool, root: str | None,
             as_json: bool) -> None:
    """List models and runs, newest first."""
    from flowtime_sim.registry.index import Query

    page = make_flowtime().list(Query(kind=kind, template=template, tags=tags, owner=owner,
                                      limit=limit, cursor=cursor, all_versions=all_versions),
                                root=root)
    if as_json:
        terminal.print_json({"artifacts": page.items, "total": page.total,
                             "next_cursor": page.next_cursor})
        return
    if not page.items:
        terminal.line("No artifacts match." if page.total == 0 and (kind or template or tags
                                                                      or owner)
                      else "No artifacts yet. Create one with 'flowtime-sim new --template T'.")
        return
    rows = [(c["id"], c["kind"], f"v{c['version']}" if c["kind"] == "model" else "",
             c.get("template_id") or c.get("model_id") or "(file)",
             c["created_utc"][:16].replace("T", " ")) for c in page.items]
    terminal.table(None, ["id", "kind", "ver", "from", "created (UTC)"], rows,
                   keep=("id", "created (UTC)"))
    shown = f"{len(page.items)} of {page.total}"
    terminal.line(shown + (f"; next page: --cursor {page.next_cursor}" if page.next_cursor
                           else ""))


@click.command("show")
@click.argument("ref", metavar="ID[@vN]")
@root_option
@json_option
def show(ref: str, root: str | None, as_json: bool) -> None:
    """Show a model version (newest by default) or a run."""
    ft = make_flowtime()
    art = ft.artifact(ref, root=root)
    cat = dict(art.catalog)
    runs = ft.registry(root).runs_of(art.id) if cat["kind"] == "model" else []
    if as_json:
        terminal.print_json({**cat, "runs": [r["id"] for r in runs]} if cat["kind"] == "model"
                            else cat)
        return
    pairs: list[tuple[str, Any]] = [(k, _short(v)) for k, v in cat.items()
                                    if k not in {"parameters", "topology", "files"}]
    terminal.key_values(pairs)
    if cat["kind"] == "model":
        terminal.line()
        terminal.table("Parameters", ["name", "value"],
                       [(k, _short(v)) for k, v in cat["parameters"].items()])
        terminal.line(f"topology: {len(cat['topology']['nodes'])} nodes, "
                      f"{len(cat['topology']['edges'])} edges")
        terminal.line("runs: " + (", ".join(r["id"] for r in runs) or "none"))
    terminal.line("files: " + ", ".join(sorted(cat["files"])))


@click.command("versions")
@click.argument("model_id", metavar="ID")
@root_option
@json_option
def versions(model_id: str, root: str | None, as_json: bool) -> None:
    """List the versions of a model."""
    found = make_flowtime().versions(model_id, root=root)
    if as_json:
        terminal.print_json([{"version": v.version, "template_version":
                              v.catalog["template_version"], "created_utc":
                              v.catalog["created_utc"], "inputs_hash": v.catalog["inputs_hash"],
                              "derived_from": v.catalog.get("derived_from")} for v in found])
        return
    terminal.table(f"{model_id}", ["version", "template version", "created (UTC)",
                                   "derived from"],
                   [(f"v{v.version}", v.catalog["template_version"], v.catalog["created_utc"],
                     v.catalog.get("derived_from", "")) for v in found])


@click.command("derive")
@click.option("--from", "source", required=True, metavar="ID[@vN]", help="The model to start from.")
@click.option("--name", "-n", help="Display name of the new model (default: the source's).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Change a parameter.")
@click.option("--tag", "tags", multiple=True, help="Extra tag. Repeatable.")
@click.option("--visibility", type=click.Choice(["private", "team", "public"]))
@click.option("--out", "--root", "root", metavar="DIR|URL", help="Artifacts root.")
@index_option
@json_option
def derive(source: str, name: str | None, sets: tuple[str, ...], tags: tuple[str, ...],
           visibility: str | None, root: str | None, as_json: bool) -> None:
    """Create a new model from an existing one, with some parameters changed."""
    from flowtime_sim.cli.artifact_output import report_created
    from flowtime_sim.parameter_input import parse_sets

    result = make_flowtime().derive(source, name=name, sets=parse_sets(sets), tags=tags,
                                    visibility=visibility, root=root)
    report_created(result, as_json)


@click.command("delete")
@click.argument("ref", metavar="ID[@vN]")
@click.option("--force", is_flag=True, help="Delete a model even while runs reference it.")
@root_option
@json_option
def delete(ref: str, force: bool, root: str | None, as_json: bool) -> None:
    """Hide a model version, a whole model or a run at once; gc purges it later."""
    hidden = make_flowtime().delete(ref, force=force, root=root)
    if as_json:
        terminal.print_json({"deleted": hidden})
        return
    for key in hidden:
        terminal.line(f"deleted {key} (files are purged by 'flowtime-sim gc' after its grace "
                      "period)")


@click.command("verify")
@root_option
@json_option
def verify(root: str | None, as_json: bool) -> None:
    """Recompute every file hash against its catalog. Exit 3 naming each bad file."""
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
        raise IntegrityError(f"{len(problems)} file(s) do not match their catalogs",
                             bad_files=problems)


@click.command("reindex")
@root_option
@json_option
def reindex(root: str | None, as_json: bool) -> None:
    """Rebuild the listing index from the stored catalogs."""
    registry = make_flowtime().registry(root)
    count = registry.reindex()
    if as_json:
        terminal.print_json({"indexed": count})
    else:
        terminal.line(f"indexed {count} artifact(s) from {registry.storage.url}")


@click.command("gc")
@click.option("--grace", default=3600.0, show_default=True, type=click.FloatRange(min=0),
              help="Only remove staging older than this many seconds.")
@root_option
@json_option
def gc(grace: float, root: str | None, as_json: bool) -> None:
    """Remove staging left behind by interrupted writers."""
    removed = make_flowtime().registry(root).gc(grace)
    if as_json:
        terminal.print_json({"removed": removed})
    else:
        terminal.line(f"removed {len(removed)} abandoned staging folder(s)")


def _short(value: Any) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 100 else text[:97] + "..."
