"""``serve``: the HTTP service and the artifacts page, run by uvicorn.

FastAPI and uvicorn are imported only when the command runs, so the rest of the CLI never
loads them.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import index_option, make_flowtime


def check_listenable(host: str, port: int) -> None:
    """Refuse, before saying "serving", an address this process cannot listen on: a port in
    use, a host name that does not resolve to this machine."""
    import socket

    from flowtime_sim.errors import UserError

    where = f"{_url_host(host)}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(
            f"cannot listen on {where}: {reason}; stop what uses it or pass "
            "another --port or --host",
            field="port",
        ) from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on. Anything but loopback exposes the service.",
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--root",
    metavar="DIR|URL",
    help="Artifacts root (default: $FLOWTIME_ARTIFACTS_ROOT or ./artifacts).",
)
@index_option
@click.option(
    "--tokens",
    "tokens_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="FLOWTIME_SIM_TOKENS",
    help="Tokens file (YAML or JSON: token -> {identity, teams}); also "
    "FLOWTIME_SIM_TOKENS. Without one, one local user sees everything.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def serve(host: str, port: int, root: str | None, tokens_file: Path | None, log_level: str) -> None:
    """Serve the HTTP API and the artifacts page."""
    import uvicorn

    from flowtime_sim.service import create_app

    if tokens_file is not None and not tokens_file.is_file():
        from flowtime_sim.errors import UserError

        raise UserError(f"tokens file {str(tokens_file)!r} does not exist", field="tokens")
    check_listenable(host, port)
    if not is_loopback(host):
        how = (
            "every request needs a bearer token from " + str(tokens_file)
            if tokens_file
            else "there is no tokens file, so anyone who can reach it sees and creates "
            "everything; pass --tokens FILE"
        )
        terminal.warn(f"serving on {host}, which is reachable from other machines: {how}")
    app = create_app(make_flowtime(), root=root, tokens_file=tokens_file or "")
    terminal.line(
        f"flowtime-sim serving {app.state.context.root} on http://{_url_host(host)}:{port}/"
    )
    uvicorn.run(
        app, host=host, port=port, log_level=log_level, proxy_headers=False, server_header=False
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
