"""``pack new``, ``pack check`` and ``pack lock``: for template-pack authors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import EXIT_USER, FlowtimeGroup, exit_with, json_option

if TYPE_CHECKING:
    from flowtime_sim.plugins import PluginHost


@click.group("pack", cls=FlowtimeGroup)
def pack() -> None:
    """Create, check and lock template packs."""


@pack.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    help="Folder to create; must not exist or be empty (default: ./flowtime-pack-NAME).",
)
@click.option("--author", help="Your name, for pyproject.toml and the LICENSE.")
@click.option("--email", help="Your e-mail address, for pyproject.toml.")
@click.option("--description", help="One line saying what the pack models (PyPI shows it).")
@click.option("--url", help="The address of the pack's repository ([project.urls]).")
@click.option(
    "--license",
    "licence",
    default="MIT",
    show_default=True,
    metavar="SPDX",
    help="SPDX licence identifier; MIT and BSD-3-Clause come with their text.",
)
@click.option(
    "--python",
    "python",
    is_flag=True,
    help="A pack with hooks in Python (python = true, hooks in __init__.py).",
)
@json_option
def new(
    name: str,
    directory: Path | None,
    author: str | None,
    email: str | None,
    description: str | None,
    url: str | None,
    licence: str,
    python: bool,
    as_json: bool,
) -> None:
    """Scaffold a publishable template pack NAME: pyproject, one template, tests, README,
    CHANGELOG, CI workflows.

    The project passes its own tests and builds a wheel as it is. Metadata not given as an
    option is left as a placeholder that 'pack check --release' names.
    """
    from flowtime_sim.clashes import new_pack_clashes
    from flowtime_sim.scaffold import PackOptions, create_pack, pack_names

    names = pack_names(name)
    warnings = new_pack_clashes(names.name, names.distribution, [names.name])
    created = create_pack(
        name,
        directory,
        PackOptions(
            author=author,
            email=email,
            description=description,
            url=url,
            license=licence,
            python=python,
        ),
    )
    for warning in warnings:
        terminal.warn(warning)
    if as_json:
        terminal.print_json({**created.as_dict(), "warnings": warnings})
        return
    terminal.line(f"created {names.distribution} in {created.folder}")
    for rel in created.files:
        terminal.line(f"  {rel}")
    terminal.line()
    terminal.line("next steps:")
    terminal.line(f"  cd {created.folder}")
    terminal.line('  pip install -e ".[test]"')
    terminal.line("  pytest")
    terminal.line(f"  flowtime-sim templates show {names.name}")


def _project_host(name: str | None, directory: Path) -> tuple[str, PluginHost]:
    """The pack to work on (NAME, else the one that DIR's pyproject.toml declares) and a host
    holding it; a pack the project declares is read from the project's source folder."""
    from flowtime_sim.errors import UserError
    from flowtime_sim.testing.packs import declared_packs, pack_host

    declared = declared_packs(directory)
    if name is None:
        if len(declared) != 1:
            found = ", ".join(sorted(declared)) or "no pack"
            raise UserError(
                f"which pack? {directory / 'pyproject.toml'} declares {found}; "
                "give its name: the entry point's name under "
                "[project.entry-points.flowtime_sim]",
                field="name",
            )
        name = next(iter(declared))
    if name in declared:  # as the tests see it: the project's source, installed or not
        for folder in (directory, directory / "src"):
            if folder.is_dir() and str(folder.resolve()) not in sys.path:
                sys.path.insert(0, str(folder.resolve()))
    return name, pack_host(name, project_dir=directory if name in declared else None)


@pack.command("check")
@click.argument("name", required=False)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The pack's project folder (for --release, and to find NAME).",
)
@click.option("--no-run", is_flag=True, help="Render, store and preview, but do not run models.")
@click.option(
    "--release",
    is_flag=True,
    help="Also check that the project is ready to release: no placeholder left in "
    "its metadata, every template version in templates.lock.",
)
@json_option
def check(name: str | None, directory: Path, no_run: bool, release: bool, as_json: bool) -> None:
    """Check pack NAME as its tests would (flowtime_sim.testing.check_pack).

    Every template version is rendered with its defaults and with each example of its
    parameter schema, stored in a temporary root, previewed and run; string parameters are
    probed with a hostile value; released versions must match templates.lock. NAME defaults
    to the pack that DIR's pyproject.toml declares. Exit 1 when anything fails.
    """
    from flowtime_sim.clashes import pack_clashes
    from flowtime_sim.testing.checks import check_pack

    name, host = _project_host(name, directory)
    report = check_pack(name, host=host, run=not no_run, raise_on_failure=False)
    warnings = pack_clashes(name, [t.split(" ")[0] for t in report.templates])
    problems: list[str] = []
    if release:
        from flowtime_sim.testing.release import release_problems

        problems = release_problems(directory, name, host)
    if as_json:
        terminal.print_json(
            {
                "pack": name,
                "ok": report.ok and not problems,
                "templates": report.templates,
                "cases": len(report.cases),
                "failures": report.failures,
                "notes": report.notes,
                "warnings": warnings,
                "release": problems if release else None,
            }
        )
    else:
        for line in report.summary().splitlines():
            terminal.line(line)
        if release:
            terminal.line(f"release check: {len(problems)} problem(s)")
            for problem in problems:
                terminal.line(f"  - {problem}")
        for warning in warnings:
            terminal.warn(warning)
    if not report.ok or problems:
        exit_with(EXIT_USER)


@pack.command("lock")
@click.argument("name", required=False)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The pack's project folder.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Relock versions whose content changed (only for versions never released).",
)
@json_option
def lock(name: str | None, directory: Path, force: bool, as_json: bool) -> None:
    """Record every template version of pack NAME in its templates.lock.

    Run it when you release: the pack's tests then fail if a released version's files change.
    A version already locked whose content changed is refused; release the change as a new
    version instead.
    """
    from flowtime_sim.errors import UserError
    from flowtime_sim.template_lock import pack_folder, update_lock
    from flowtime_sim.templates import TemplateIndex

    name, host = _project_host(name, directory)
    folder = pack_folder(host, name)
    if folder is None:
        raise UserError(
            f"pack {name!r} has no package folder to keep templates.lock in", field="name"
        )
    templates = [
        t
        for versions in TemplateIndex.collect(host).by_id.values()
        for t in versions
        if t.plugin == name
    ]
    try:
        update = update_lock(folder, templates, force=force)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        terminal.print_json(
            {
                "path": str(update.path),
                "added": update.added,
                "kept": update.kept,
                "relocked": update.changed,
                "removed": update.removed,
            }
        )
        return
    for label, items in (
        ("locked", update.added),
        ("relocked", update.changed),
        ("removed", update.removed),
    ):
        for item in items:
            terminal.line(f"{label} {item.replace('@', ' ')}")
    terminal.line(
        f"{update.path}: {len(update.added) + len(update.kept) + len(update.changed)}"
        " template version(s) locked"
    )
