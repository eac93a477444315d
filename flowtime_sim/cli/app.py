"""The click group: error handling, exit codes and shared options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from flowtime_sim.errors import FlowtimeError, IntegrityError

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime

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
        except FlowtimeError as exc:  # a user error, a misbehaving plugin, anything on purpose
            terminal.error(str(exc))
            ctx.exit(EXIT_USER)
        except OSError as exc:  # a file system refusal no command turned into a message
            from flowtime_sim.filesystem import reason

            terminal.error(reason(exc))
            ctx.exit(EXIT_USER)


def exit_with(code: int) -> NoReturn:
    """End the command with ``code`` (0 success, 1 user error, 3 integrity): the one way
    commands set their exit code."""
    click.get_current_context().exit(code)
    raise AssertionError("unreachable")  # pragma: no cover - ctx.exit raises


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def template_source_options(f: F) -> F:
    """``--templates-dir`` / ``--template-file``: FlowTime-Sim templates in the upstream format."""
    f = click.option(
        "--template-file",
        "template_files",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A FlowTime-Sim template file (upstream format). Repeatable.",
    )(f)
    f = click.option(
        "--templates-dir",
        "template_dirs",
        multiple=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="A folder of FlowTime-Sim templates (upstream format). Repeatable.",
    )(f)
    return f


STORAGE_OPTIONS = "flowtime.storage_options"


def _collect_storage_options(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    options: dict[str, str] = dict(ctx.meta.get(STORAGE_OPTIONS, {}))
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", ctx=ctx, param=param)
        options[key.strip()] = value
    ctx.meta[STORAGE_OPTIONS] = options  # meta is shared with every subcommand's context
    return options


def storage_option(f: F) -> F:
    """``--storage-option KEY=VALUE`` on a group: passed to the storage backend of the root."""
    return click.option(
        "--storage-option",
        multiple=True,
        metavar="KEY=VALUE",
        expose_value=False,
        callback=_collect_storage_options,
        help="An option for the root's storage backend, e.g. "
        "endpoint_url=http://127.0.0.1:9000 for s3:// roots. "
        "Repeatable.",
    )(f)


INDEX = "flowtime.index"


def _remember_index(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta[INDEX] = value


def index_option(f: F) -> F:
    """``--index URL`` beside ``--root``: the listing index (default: the SQLite file beside
    the root; ``postgresql://…`` shares versions and listings between machines)."""
    return click.option(
        "--index",
        metavar="URL",
        expose_value=False,
        callback=_remember_index,
        envvar="FLOWTIME_SIM_INDEX",
        help="Listing index: postgresql://user@host/db for a team's shared "
        "index (also FLOWTIME_SIM_INDEX; default: SQLite beside the "
        "root).",
    )(f)


def make_flowtime(
    template_dirs: tuple[Path, ...] = (), template_files: tuple[Path, ...] = ()
) -> Flowtime:
    from flowtime_sim.core import Flowtime

    ctx = click.get_current_context(silent=True)
    host = None
    if ctx is not None and ctx.meta.get("flowtime.strict"):
        from flowtime_sim.plugins import create_plugin_host

        host = create_plugin_host(strict=True)
    options = ctx.meta.get(STORAGE_OPTIONS) if ctx is not None else None
    ft = Flowtime(
        host=host,
        template_paths=[*template_dirs, *template_files],
        storage_options=options,
        index=ctx.meta.get(INDEX) if ctx is not None else None,
    )
    if ctx is not None:
        ctx.call_on_close(ft.close)
    return ft


def warn_failed_packs(ft: Any) -> None:
    """One warning per pack that failed to load: its templates are missing from what follows."""
    from flowtime_sim.cli import terminal

    for record in ft.host.failures():
        terminal.warn(
            f"plugin {record.name!r} {record.status}: {record.detail}; its templates "
            "are not available (see 'flowtime-sim doctor')"
        )
