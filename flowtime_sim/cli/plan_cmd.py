"""``plan``: how the engine will evaluate a model file."""

from __future__ import annotations

from pathlib import Path

import click

from flowtime_sim.cli.app import json_option


@click.command("plan")
@click.argument("model_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def plan(model_file: Path, as_json: bool) -> None:
    """Print a model's evaluation plan: synthesized series, order, feedback loops."""
    import json

    from flowtime_sim.cli.run_cmds import _read
    from flowtime_sim.model import parse_model
    from flowtime_sim.plan import format_plan

    model = parse_model(_read(model_file), origin=str(model_file))
    assert model.plan is not None
    if as_json:
        document = {
            "bins": model.plan.bins,
            "series": list(model.plan.series),
            "synthesized": [{"series": s, "from": origin} for s, origin in model.plan.synthesized],
            "stages": [
                {
                    "sequential": stage.sequential,
                    "steps": [step.describe() for step in stage.steps],
                }
                for stage in model.plan.stages
            ],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(format_plan(model.plan))
