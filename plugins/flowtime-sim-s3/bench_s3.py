"""Benchmark of the s3 backend against moto's S3 server on loopback.

    python plugins/flowtime-sim-s3/bench_s3.py [--artifacts 10000] [--writers 4] [--sample 200]

Creates ``--artifacts`` checkout models in a fresh bucket (the first ``--sample`` one at a time,
the rest from ``--writers`` threads), then measures ``list --limit 50``: on the machine that
wrote them, on a machine that has never listed the bucket (its first listing reads the whole
journal), once it has, and through the CLI as a user runs it. Prints a markdown table.

moto is a single Python process answering one request at a time, far slower than S3; the
figures compare the backend's paths with each other more than they predict S3's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowtime_sim.core import Flowtime
from flowtime_sim.registry import Query
from flowtime_sim.types import ParameterSources

BUCKET = "flowtime-bench"


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "flowtime_sim_s3.testing"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def machine(root: str, cache: Path, refresh: str = "0") -> Flowtime:
    return Flowtime(root=root, owner="bench",
                    storage_options={"cache_dir": str(cache), "refresh_interval": refresh})


def create(ft: Flowtime, i: int) -> None:
    ft.create_model("checkout", ParameterSources(sets={"arrivals_per_day": 1000 + i}),
                    name=f"bench-{i % 50}")


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    return statistics.median(timed(fn) for _ in range(repeat)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=int, default=10_000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()

    server, endpoint = start_server()
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint})
    work = Path(tempfile.mkdtemp(prefix="flowtime-bench-"))
    rows: list[tuple[str, str]] = []
    try:
        import boto3

        boto3.client("s3").create_bucket(Bucket=BUCKET)
        root = f"s3://{BUCKET}/bench"
        writer = machine(root, work / "writer")
        writer.templates  # noqa: B018 -- load the packs before timing
        seconds = timed(lambda: [create(writer, i) for i in range(args.sample)])
        rows.append((f"create, 1 writer ({args.sample} models)",
                     f"{args.sample / seconds:.1f} models/s ({seconds / args.sample * 1000:.0f} "
                     "ms each)"))

        next_i = iter(range(args.sample, args.artifacts))
        lock = threading.Lock()

        def fill(n: int) -> None:
            ft = machine(root, work / f"filler-{n}")
            while True:
                with lock:
                    i = next(next_i, None)
                if i is None:
                    return
                create(ft, i)

        threads = [threading.Thread(target=fill, args=(n,)) for n in range(args.writers)]
        rest = args.artifacts - args.sample
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
        rows.append((f"create, {args.writers} writers ({rest} models)",
                     f"{rest / seconds:.1f} models/s"))

        query = Query(limit=50)
        total = writer.list(query).total
        assert total == args.artifacts, total
        rows.append((f"`list --limit 50`, writer, {total} artifacts (looks at the journal)",
                     f"{median_ms(lambda: writer.list(query), 20):.1f} ms"))
        throttled = machine(root, work / "writer", refresh="60")
        throttled.list(query)
        rows.append(("`list --limit 50`, writer, within the refresh interval",
                     f"{median_ms(lambda: throttled.list(query), 20):.2f} ms"))
        reader = machine(root, work / "reader")
        rows.append((f"first `list` on a new machine (reads {total} journal entries)",
                     f"{timed(lambda: reader.list(query)):.1f} s"))
        rows.append(("`list --limit 50`, that machine afterwards",
                     f"{median_ms(lambda: reader.list(query), 20):.1f} ms"))
        page = reader.list(query)
        rows.append(("`list --limit 50 --cursor …` (second page)",
                     f"{median_ms(lambda: reader.list(Query(limit=50, cursor=page.next_cursor)), 20):.1f} ms"))  # noqa: E501
        env = {**os.environ, "FLOWTIME_SIM_CACHE_DIR": str(work / "cli")}
        cli = [sys.executable, "-c", "from flowtime_sim.cli import main; main()", "list",
               "--limit", "50", "--root", root, "--json"]
        subprocess.run(cli, env=env, check=True, capture_output=True)
        rows.append(("`flowtime-sim list --limit 50` process, warm cache",
                     f"{median_ms(lambda: subprocess.run(cli, env=env, check=True, capture_output=True), 5):.0f} ms"))  # noqa: E501
        rebuilt = machine(root, work / "rebuilt")
        rows.append((f"`reindex` ({total} artifacts, walks the bucket)",
                     f"{timed(lambda: rebuilt.registry().reindex()):.1f} s"))
    finally:
        server.terminate()
        server.wait()
    print(f"\n### flowtime-sim-s3 against moto on loopback ({args.artifacts} artifacts)\n")
    print("| measurement | result |")
    print("|---|---|")
    for what, result in rows:
        print(f"| {what} | {result} |")


if __name__ == "__main__":
    main()
