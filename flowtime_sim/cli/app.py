"""The click group: error handling, exit codes and shared options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from flowtime_sim.errors import FlowtimeError, IntegrityError, PluginError, UserError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USER = 1
EXIT_INTEGRITY = 3


class FlowtimeGroup(click.Group):
    """Turns the project's exceptions into one-line messages and the documented exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        from flowtime_sim.cli import terminal

        try:
            return super().invoke(ctx)
        except IntegrityError as exc:
            terminal.error(str(exc))
            ctx.exit(EXIT_INTEGRITY)
        except (UserError, PluginError) as exc:
            terminal.error(str(exc))
            ctx.exit(EXIT_USER)
        except FlowtimeError as exc:
            terminal.error(str(exc))
            ctx.exit(EXIT_USER)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def template_source_options(f: F) -> F:
    """``--templates-dir`` / ``--template-file``: FlowTime-Sim templates in the upstream format."""
    f = click.option("--template-file", "template_files", multiple=True,
                     type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="A FlowTime-Sim template file (upstream format). Repeatable.")(f)
    f = click.option("--templates-dir", "template_dirs", multiple=True,
                     type=click.Path(exists=True, file_okay=False, path_type=Path),
                     help="A folder of FlowTime-Sim templates (upstream format). Repeatable.")(f)
    return f


def make_flowtime(template_dirs: tuple[Path, ...] = (),
                  template_files: tuple[Path, ...] = ()) -> Any:
    from flowtime_sim.core import Flowtime

    ctx = click.get_current_context(silent=True)
    host = None
    if ctx is not None and ctx.meta.get("flowtime.strict"):
        from flowtime_sim.plugins import create_plugin_host

        host = create_plugin_host(strict=True)
    ft = Flowtime(host=host, template_paths=[*template_dirs, *template_files])
    if ctx is not None:
        ctx.call_on_close(ft.close)
    return ft
