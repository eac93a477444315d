"""``FlowtimeCli``: the command line, run in-process against one host and one root."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

if TYPE_CHECKING:
    from click.testing import Result

    from flowtime_sim.plugins import PluginHost

#: Builds a host like ``create_plugin_host(strict=...)`` would, holding only the pack under test.
HostFactory = Callable[[bool], "PluginHost"]


class FlowtimeCli:
    """Runs ``flowtime-sim`` commands with click's ``CliRunner``.

    Every command sees only the plugins ``host_factory`` builds (the pack under test and the
    built-ins) and uses ``root`` as its default artifacts root. Unexpected exceptions are not
    swallowed: they fail the test with their traceback.
    """

    def __init__(
        self, host_factory: HostFactory, root: Path, host: PluginHost | None = None
    ) -> None:
        self.host_factory = host_factory
        self.root = Path(root)
        #: The host of every command without ``--strict`` or ``--templates-dir``.
        self.host = host if host is not None else host_factory(False)

    def invoke(
        self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> Result:
        """Run ``flowtime-sim ARGS...``; one string is split like a shell would split it.

        Returns click's ``Result``: ``exit_code``, ``stdout``, ``stderr``.
        """
        from click.testing import CliRunner

        from flowtime_sim.cli import main

        argv = shlex.split(args[0]) if len(args) == 1 else list(args)
        runner = CliRunner()
        environment = {"FLOWTIME_ARTIFACTS_ROOT": str(self.root), "COLUMNS": "200", **(env or {})}
        with self._bound():
            return runner.invoke(main, argv, input=input, env=environment, catch_exceptions=False)

    def json(self, *args: str, input: str | None = None) -> Any:
        """Run a command with ``--json`` and return its parsed output; fail on a non-zero exit."""
        argv = shlex.split(args[0]) if len(args) == 1 else list(args)
        result = self.invoke(*argv, "--json", input=input)
        if result.exit_code != 0:
            raise AssertionError(
                f"flowtime-sim {shlex.join(argv)} --json exited "
                f"{result.exit_code}: {result.stderr.strip()}"
            )
        return json.loads(result.stdout)

    @contextmanager
    def _bound(self) -> Iterator[None]:
        """Point the CLI's host factories at this runner's hosts for one command."""
        from flowtime_sim.cli import terminal

        def create(*, strict: bool | None = None, plugins: Any = (), **_: Any) -> PluginHost:
            host = self.host_factory(bool(strict))
            for name, plugin in plugins:
                host.register(plugin, name)
            return host

        terminal.console.cache_clear()  # the console caches the terminal width
        try:
            with (
                mock.patch("flowtime_sim.plugins.get_plugin_host", lambda: self.host),
                mock.patch("flowtime_sim.plugins.create_plugin_host", create),
            ):
                yield
        finally:
            terminal.console.cache_clear()
