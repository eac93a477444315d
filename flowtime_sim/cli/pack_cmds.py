"""``pack new`` and ``pack check``: for template-pack authors."""

from __future__ import annotations

from pathlib import Path

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import FlowtimeGroup, json_option


@click.group("pack", cls=FlowtimeGroup)
def pack() -> None:
    """Create and check template packs."""


@pack.command("new")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(path_type=Path),
              help="Folder to create; must not exist or be empty (default: ./flowtime-pack-NAME).")
@json_option
def new(name: str, directory: Path | None, as_json: bool) -> None:
    """Scaffold a publishable template pack NAME: pyproject, one template, tests, README.

    The project passes its own tests and builds a wheel as it is.
    """
    from flowtime_sim.scaffold import create_pack

    created = create_pack(name, directory)
    if as_json:
        terminal.print_json(created.as_dict())
        return
    names = created.names
    terminal.line(f"created {names.distribution} in {created.folder}")
    for rel in created.files:
        terminal.line(f"  {rel}")
    terminal.line()
    terminal.line("next steps:")
    terminal.line(f"  cd {created.folder}")
    terminal.line('  pip install -e ".[test]"')
    terminal.line("  pytest")
    terminal.line(f"  flowtime-sim templates show {names.name}")


@pack.command("check")
@click.argument("name")
@click.option("--no-run", is_flag=True, help="Render, store and preview, but do not run models.")
@json_option
def check(name: str, no_run: bool, as_json: bool) -> None:
    """Check installed pack NAME as its tests would (flowtime_sim.testing.check_pack).

    Every template version is rendered with its defaults and with each example of its
    parameter schema, stored in a temporary root, previewed and run; string parameters are
    probed with a hostile value. Exit 1 when anything fails.
    """
    from flowtime_sim.testing.checks import check_pack

    report = check_pack(name, run=not no_run, raise_on_failure=False)
    if as_json:
        terminal.print_json({"pack": name, "ok": report.ok, "templates": report.templates,
                             "cases": len(report.cases), "failures": report.failures,
                             "notes": report.notes})
    else:
        for line in report.summary().splitlines():
            terminal.line(line)
    if not report.ok:
        raise SystemExit(1)
