"""A throwaway PostgreSQL server on loopback, for tests and benchmarks of the PostgreSQL index.

It runs the server binaries of the machine (Debian's ``postgresql`` package puts them in
``/usr/lib/postgresql/N/bin``) on ``127.0.0.1`` and a free port, with its data in a temporary
folder. ``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` user.
Nothing here is used outside tests: production databases are the team's own.

``python -m flowtime_sim.testing.postgres`` starts one and prints its URL until interrupted.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: points tests at an existing server instead of starting one (a database they may write to)
DSN_ENV = "FLOWTIME_SIM_TEST_PG_DSN"


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, newest version first; ``None`` if absent."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopbackPostgres:
    """``start()``, ``stop()`` (and ``start()`` again, same data and port), ``url``."""

    def __init__(self, port: int | None = None) -> None:
        binaries = server_binaries()
        if binaries is None:
            raise RuntimeError(
                "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: "
                "apt-get install postgresql"
            )
        self.bin = binaries
        self.port = port or _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="flowtime-pg-"))
        self.data = self.folder / "data"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )
        conf = "\n".join(
            [
                "fsync = off",
                "synchronous_commit = off",
                "full_page_writes = off",
                "max_connections = 200",
                "shared_buffers = 64MB",
                "",
            ]
        )
        self._run("sh", "-c", f"cat >> {self.data}/postgresql.conf <<'EOF'\n{conf}EOF")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres?connect_timeout=2"

    def _run(self, program: str, *args: str) -> None:
        exe = str(self.bin / program) if (self.bin / program).exists() else program
        command = [exe, *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}")

    def start(self) -> LoopbackPostgres:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.folder}",
            "start",
        )
        return self

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: the server goes too
    server = LoopbackPostgres().start()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
