"""The command line: ``flowtime-sim <command>`` and ``flowtime sim <command>``.

Commands import what they need when they run, so ``--help`` stays fast.
"""

from __future__ import annotations

import click

from flowtime_sim import __version__
from flowtime_sim.cli.app import FlowtimeGroup, storage_option
from flowtime_sim.cli.new_cmds import new
from flowtime_sim.cli.pack_cmds import pack
from flowtime_sim.cli.plan_cmd import plan
from flowtime_sim.cli.plugins_cmds import doctor, plugins
from flowtime_sim.cli.queue_cmds import worker
from flowtime_sim.cli.registry_cmds import (
    delete,
    derive,
    gc,
    list_cmd,
    reindex,
    show,
    verify,
    versions,
)
from flowtime_sim.cli.run_cmds import preview, run
from flowtime_sim.cli.scenario_cmds import compare, diff, sweep
from flowtime_sim.cli.serve_cmd import serve
from flowtime_sim.cli.templates_cmds import templates


@click.group(
    "flowtime-sim", cls=FlowtimeGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="flowtime-sim")
@click.option(
    "--strict",
    is_flag=True,
    envvar="FLOWTIME_SIM_STRICT",
    help="Fail when any plugin fails to load (also FLOWTIME_SIM_STRICT=1).",
)
@storage_option
@click.pass_context
def main(ctx: click.Context, strict: bool) -> None:
    """Turn template packs into versioned FlowTime models and runs."""
    ctx.meta["flowtime.strict"] = strict


for command in (
    templates,
    plugins,
    doctor,
    new,
    derive,
    list_cmd,
    show,
    versions,
    delete,
    verify,
    reindex,
    gc,
    run,
    preview,
    plan,
    pack,
    serve,
    sweep,
    compare,
    diff,
    worker,
):
    main.add_command(command)


@click.group(
    "flowtime", cls=FlowtimeGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="flowtime")
@storage_option
def flowtime() -> None:
    """FlowTime tools: 'flowtime sim COMMAND' is 'flowtime-sim COMMAND'."""


flowtime.add_command(main, "sim")
flowtime.add_command(run, "run")
