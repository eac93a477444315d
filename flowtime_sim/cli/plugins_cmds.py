"""``plugins`` and ``doctor``: what is installed and what is wrong with it."""

from __future__ import annotations

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import json_option, make_flowtime


@click.command("plugins")
@json_option
def plugins(as_json: bool) -> None:
    """List plugins and packs, with any that failed to load and why."""
    ft = make_flowtime()
    records = ft.host.records
    if as_json:
        terminal.print_json([r.as_dict() for r in records])
        return
    rows = [(r.name, f"{r.dist.name} {r.dist.version}" if r.dist else "(built in)", r.status,
             r.detail) for r in records]
    terminal.table(None, ["plugin", "distribution", "status", "detail"], rows)


@click.command("doctor")
@json_option
def doctor(as_json: bool) -> None:
    """Check the installation: plugins, templates and their defaults. Exit 1 on problems."""
    from flowtime_sim.errors import FlowtimeError
    from flowtime_sim.markers import PLUGIN_API_VERSION

    ft = make_flowtime()
    problems = [f"plugin {r.name!r} {r.status}: {r.detail}" for r in ft.host.failures()]
    problems += ft.templates.problems
    checked = 0
    for tpl in ft.templates.latest():
        try:
            ft.render(f"{tpl.plugin}:{tpl.id}", version=tpl.version)
            checked += 1
        except FlowtimeError as exc:
            problems.append(f"template {tpl.plugin}:{tpl.id} {tpl.version}: {exc}")
    from flowtime_sim import __version__

    notes = [f"plugin {r.name!r}: {r.detail}" for r in ft.host.records
             if r.status == "loaded" and r.detail]
    report = {"version": __version__, "plugin_api": PLUGIN_API_VERSION,
              "plugins": len(ft.host.records), "templates_checked": checked,
              "problems": problems, "notes": notes}
    if as_json:
        terminal.print_json(report)
    else:
        terminal.line(f"flowtime-sim {__version__}, plugin API {PLUGIN_API_VERSION}")
        terminal.line(f"{len(ft.host.records)} plugin(s), {checked} template(s) render with "
                      "their defaults")
        for note in notes:
            terminal.line(f"note: {note}")
        for p in problems:
            terminal.line(f"problem: {p}")
        terminal.line("no problems found" if not problems else f"{len(problems)} problem(s)")
    if problems:
        click.get_current_context().exit(1)
