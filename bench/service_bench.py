"""HTTP service benchmark: real uvicorn servers on loopback, driven by ``wrk``.

    python bench/service_bench.py [--duration 10] [--strict]

Starts the service over a fresh root holding one model, and a trivial FastAPI route for
reference, each in its own process with one uvicorn worker. Measures

* ``GET /sim/models/{id}`` throughput at 64 connections, as a ratio to the trivial route
  (target at least 0.5);
* ``GET /sim/models/{id}`` p99 latency at 16 connections (target under 20 ms);
* ``POST /sim/new`` p50 latency, each request a new model (target under 30 ms);

and prints a Markdown table. ``--strict`` exits 1 when a target is missed. Needs ``wrk``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve()
WRK_THREADS = 2


def serve(kind: str, port: int, root: str | None) -> None:
    """Run one server in this process (the benchmark starts two of these)."""
    import uvicorn

    if kind == "app":
        from flowtime_sim.core import Flowtime
        from flowtime_sim.service import create_app

        app = create_app(Flowtime(root=root, owner="bench"), root=root, tokens_file="")
    else:
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(kind: str, root: str | None = None) -> Iterator[str]:
    port = _free_port()
    args = [sys.executable, str(HERE), "--serve", kind, "--port", str(port)]
    if root:
        args += ["--root", root]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{kind} server did not start: {proc.stderr.read()}"
                        if proc.stderr
                        else f"{kind} server did not start"
                    ) from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wrk(url: str, connections: int, duration: float) -> dict[str, float]:
    """Requests per second and latency percentiles (ms) of one wrk run."""
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(WRK_THREADS, connections)}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} failed responses\n{out}")
    result = {"rps": rps}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            value = float(m.group(1))
            result[f"p{pct}"] = (
                value / 1000
                if m.group(2) == "us"
                else (value * 1000 if m.group(2) == "s" else value)
            )
    return result


def post_new_latencies(base: str, count: int) -> list[float]:
    """Sequential ``POST /sim/new`` requests, each a distinct model; latencies in ms."""
    import httpx

    times = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for i in range(count + 5):
            body = {
                "template": "checkout",
                "name": f"bench {i}",
                "parameters": {"peak_factor": 1 + i / 1000},
            }
            start = time.perf_counter()
            response = client.post("/sim/new", json=body)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 201:
                raise RuntimeError(
                    f"POST /sim/new answered {response.status_code}: {response.text}"
                )
            if i >= 5:  # the first few warm the template caches
                times.append(elapsed)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--posts", type=int, default=200, help="POST /sim/new requests")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--serve", choices=["app", "trivial"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.root)
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="flowtime-bench-") as tmp:
        root = os.path.join(tmp, "artifacts")
        from flowtime_sim.core import Flowtime

        ft = Flowtime(root=root, owner="bench")
        model_id = ft.create_model("checkout").artifact.id
        ft.close()
        with server("trivial") as trivial, server("app", root) as app:
            model_url = f"{app}/sim/models/{model_id}"
            with urllib.request.urlopen(model_url) as r:  # the route works before timing it
                assert json.load(r)["id"] == model_id
            wrk(f"{trivial}/healthz", 64, 2)  # warm-up
            wrk(model_url, 64, 2)
            base64 = wrk(f"{trivial}/healthz", 64, args.duration)
            got64 = wrk(model_url, 64, args.duration)
            base16 = wrk(f"{trivial}/healthz", 16, args.duration)
            got16 = wrk(model_url, 16, args.duration)
            posts = post_new_latencies(app, args.posts)

    ratio = got64["rps"] / base64["rps"]
    p99 = got16["p99"]
    p50_new = statistics.median(posts)
    rows = [
        ("trivial FastAPI route, 64 connections", f"{base64['rps']:,.0f} req/s", "", ""),
        ("GET /sim/models/{id}, 64 connections", f"{got64['rps']:,.0f} req/s", "", ""),
        ("GET /sim/models/{id} / trivial route", f"{ratio:.2f}x", ">= 0.5x", ratio >= 0.5),
        ("GET /sim/models/{id} p99, 16 connections", f"{p99:.1f} ms", "< 20 ms", p99 < 20),
        ("GET /sim/models/{id} p50, 16 connections", f"{got16['p50']:.1f} ms", "", ""),
        (
            "trivial route p99 / p50, 16 connections",
            f"{base16['p99']:.1f} / {base16['p50']:.1f} ms",
            "",
            "",
        ),
        (
            f"POST /sim/new p50 ({len(posts)} new models)",
            f"{p50_new:.1f} ms",
            "< 30 ms",
            p50_new < 30,
        ),
        ("POST /sim/new p90", f"{statistics.quantiles(posts, n=10)[-1]:.1f} ms", "", ""),
    ]
    print("| measure | result | target | met |")
    print("|---|---|---|---|")
    for name, value, target, ok in rows:
        met = "" if target == "" else ("yes" if ok else "**no**")
        print(f"| {name} | {value} | {target} | {met} |")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n{os.cpu_count()} CPUs, load average {load}; one uvicorn worker per server, "
        f"wrk with {WRK_THREADS} threads, {round(args.duration)} s per run."
    )
    missed = [name for name, _, target, ok in rows if target and not ok]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
