"""``plugins`` and ``doctor``: what is installed and what is wrong with it."""

from __future__ import annotations

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import EXIT_USER, exit_with, json_option, make_flowtime


@click.command("plugins")
@json_option
def plugins(as_json: bool) -> None:
    """List plugins and packs, with any that failed to load and why, and the templates a
    loaded pack offers but that cannot be read."""
    ft = make_flowtime()
    records = ft.host.records
    index = ft.templates
    if as_json:
        terminal.print_json(
            [{**r.as_dict(), "problems": index.problems_of(r.name)} for r in records]
        )
        return
    rows = [
        (
            r.name,
            f"{r.dist.name} {r.dist.version}" if r.dist else "(built in)",
            r.status,
            "; ".join([r.detail] * bool(r.detail) + index.problems_of(r.name)),
        )
        for r in records
    ]
    terminal.table(None, ["plugin", "distribution", "status", "detail"], rows)


@click.command("doctor")
@json_option
def doctor(as_json: bool) -> None:
    """Check the installation: load every plugin, call each of its hooks once and render
    every version of every template with its defaults. Exit 1 on problems."""
    from flowtime_sim import __version__
    from flowtime_sim.doctor import diagnose
    from flowtime_sim.markers import PLUGIN_API_VERSION

    ft = make_flowtime()
    found = diagnose(ft)
    problems = found.problems
    checked = found.templates_checked
    notes = [
        f"plugin {r.name!r}: {r.detail}"
        for r in ft.host.records
        if r.status == "loaded" and r.detail
    ]
    report = {
        "version": __version__,
        "plugin_api": PLUGIN_API_VERSION,
        "plugins": len(ft.host.records),
        "templates_checked": checked,
        "hooks_called": found.hooks_called,
        "problems": problems,
        "notes": notes,
        "warnings": found.warnings,
    }
    if as_json:
        terminal.print_json(report)
    else:
        terminal.line(f"flowtime-sim {__version__}, plugin API {PLUGIN_API_VERSION}")
        terminal.line(
            f"{len(ft.host.records)} plugin(s), {found.hooks_called} hook call(s), "
            f"{checked} template version(s) render with their defaults"
        )
        for note in notes:
            terminal.line(f"note: {note}")
        for warning in found.warnings:
            terminal.line(f"warning: {warning}")
        for p in problems:
            terminal.line(f"problem: {p}")
        terminal.line("no problems found" if not problems else f"{len(problems)} problem(s)")
    if problems:
        exit_with(EXIT_USER)
