"""Benchmark of a team's setup: S3 (moto on loopback) for the bytes, PostgreSQL on loopback
for the index. Prints a markdown table.

    python bench/teams_bench.py [--artifacts 100000] [--creates 800] [--run-mb 350] [--quick]

* ``list --limit 50`` over ``--artifacts`` rows, each in a brand-new process: the first listing
  (connecting included) and the next one, p95 over 30 processes, and the S3 requests it made;
* creation of checkout models through the index and the bucket, one writer and four writer
  processes, with the S3 requests per creation; four writers again against ``moto_server``;
* a run file of ``--run-mb`` MB published as a stream: bytes sent to S3 and extra memory.

PostgreSQL comes from ``FLOWTIME_SIM_TEST_PG_DSN`` or is started from the machine's binaries
(:mod:`flowtime_sim.testing.postgres`). S3 is moto served by ``bench/s3_server.py``, which keeps
connections alive as S3 does and counts the requests and bytes it receives; moto's own
``moto_server`` (a new connection per request) is measured beside it for creation. moto is a
Python process far slower than S3, sharing the machine's CPUs with the writers: its figures are
a floor for S3, not a forecast.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
Row = tuple[str, str, str, str]

CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
from flowtime_sim.core import Flowtime
from flowtime_sim.registry import Query
root, index, mode = sys.argv[1], sys.argv[2], sys.argv[3]
ft = Flowtime(root=root, index=index, owner="bench")
"""

LIST_CHILD = (
    CHILD
    + r"""
ft.registry()  # the plugin host, the storage and the index's driver: imports, no request
t1 = time.perf_counter()
page = ft.list(Query(limit=50))
t2 = time.perf_counter()
ft.list(Query(limit=50, cursor=page.next_cursor))
t3 = time.perf_counter()
touched = "client" in ft.registry().storage.bucket.__dict__
print(json.dumps({"open": t1 - t0, "first": t2 - t1, "next": t3 - t2, "items": len(page.items),
                  "total": page.total, "s3_client": touched}))
"""
)

CREATE_CHILD = (
    CHILD
    + r"""
sys.path.insert(0, os.environ["BENCH_DIR"])
from s3_server import counts
from flowtime_sim.types import ParameterSources
writer, count, start_at = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
ft.create_model("checkout", ParameterSources(sets={"arrivals_per_day": 10 + writer}),
                name=f"warm-{writer}")
counting = os.environ.get("BENCH_COUNTING") == "1"
before = counts(os.environ["AWS_ENDPOINT_URL"])["requests"] if counting else 0
time.sleep(max(0.0, start_at - time.time()))
begin = time.time()
for i in range(count):
    ft.create_model("checkout", ParameterSources(sets={"arrivals_per_day": 1000 + i}),
                    name=f"w{writer}")
end = time.time()
after = counts(os.environ["AWS_ENDPOINT_URL"])["requests"] if counting else 0
print(json.dumps({"begin": begin, "end": end, "requests": after - before}))
"""
)


RUN_CHILD = (
    CHILD
    + r"""
import hashlib, resource
from flowtime_sim.registry.catalog import utc_now
size = int(sys.argv[4])
path = sys.argv[5]
line = b"0,12.5,13.25,0.75,1.0,2.0,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0,11.0,12.0\n"
digest = hashlib.sha256()
with open(path, "wb") as fh:
    written = 0
    while written < size:
        block = line * 16384
        fh.write(block[: size - written])
        digest.update(block[: size - written])
        written += len(block[: size - written])
sys.path.insert(0, os.environ["BENCH_DIR"])
from s3_server import counts
registry = ft.registry()
registry.storage.bucket.fast  # connect first: the clients' memory is not the upload's
before_bytes = counts(os.environ["AWS_ENDPOINT_URL"])["bytes"]
run_id = "bench-run_" + os.urandom(4).hex()
catalog = {"kind": "run", "id": run_id, "model_id": "bench_00000000", "model_version": 1,
           "model_hash": "sha256:" + "0" * 64, "created_utc": utc_now(),
           "schema_version": "treehouse.binned.v0",
           "seed": 0, "mode": "expected", "engine_version": "bench",
           "grid": {"bins": 1, "binSize": 1, "binUnit": "hours"}, "series": ["s"],
           "inputs_hash": "sha256:" + digest.hexdigest(),
           "files": {"binned_v0.csv": "sha256:" + digest.hexdigest()}, "owner": "bench",
           "visibility": "private", "source": "engine", "generator": "flowtime-sim/bench"}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(path, "rb") as fh:
    registry.publish_run(catalog, {"binned_v0.csv": fh})
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sent = counts(os.environ["AWS_ENDPOINT_URL"])["bytes"] - before_bytes
ok = registry.verify()[1] == []
print(json.dumps({"sent": sent, "extra_kib": after - before, "verified": ok}))
"""
)


def child(script: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "✅" if ok else "❌"


def seed_listing(index_url: str, root: str, count: int) -> None:
    """``count`` visible model rows, written straight into the index (as ``reindex`` would)."""
    from flowtime_sim.core import Flowtime
    from flowtime_sim.registry.postgres import PostgresIndex

    sample = Flowtime(root=tempfile.mkdtemp(), owner="bench").create_model("checkout")
    base = dict(sample.artifact.catalog)

    def catalogs() -> Any:
        start = time.time() - count
        for i in range(count):
            created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + i))
            yield {
                **base,
                "id": f"bench-{i}_{i:08x}",
                "name": f"bench {i}",
                "created_utc": created,
                "owner": f"user{i % 17}",
                "tags": [*base["tags"], f"batch-{i % 100}"],
            }

    PostgresIndex(index_url, root).rebuild_from(catalogs(), [])


def bench_listing(index_url: str, env: dict[str, str], count: int, processes: int) -> list[Row]:
    root = f"s3://bench-list-{secrets.token_hex(4)}/team"
    start = time.perf_counter()
    seed_listing(index_url, root, count)
    seeded = time.perf_counter() - start
    results = [child(LIST_CHILD, root, index_url, "list", env=env) for _ in range(processes)]
    assert all(r["items"] == 50 and r["total"] == count for r in results)
    opening = p95([r["open"] for r in results])
    first = p95([r["first"] for r in results])
    following = p95([r["next"] for r in results])
    touched = sum(r["s3_client"] for r in results)
    cli = str(Path(sys.executable).parent / "flowtime-sim")
    times = []
    for _ in range(10):
        t = time.perf_counter()
        subprocess.run(
            [cli, "list", "--limit", "50", "--root", root, "--index", index_url, "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        times.append(time.perf_counter() - t)
    return [
        (
            f"index {count:,} artifacts (rows written in one transaction)",
            f"{seeded:.1f} s",
            "report",
            "",
        ),
        (
            f"start of a brand-new process: imports, plugins, opening the root (p95 of "
            f"{processes})",
            ms(opening),
            "report",
            "",
        ),
        (
            f"first `list --limit 50` in that process, {count:,} artifacts, connecting included "
            f"(p95 of {processes})",
            ms(first),
            "≤ 100 ms",
            verdict(first <= 0.1),
        ),
        (
            f"next `list --limit 50` page in that process (p95 of {processes})",
            ms(following),
            "≤ 25 ms",
            verdict(following <= 0.025),
        ),
        ("S3 requests per list", f"{touched}", "0", verdict(touched == 0)),
        (
            "`flowtime-sim list --limit 50` as a whole CLI process (median of 10)",
            ms(sorted(times)[5]),
            "report",
            "",
        ),
    ]


def create_rate(
    index_url: str, env: dict[str, str], endpoint: str, writers: int, per: int, counting: bool
) -> tuple[float, float]:
    """Models created per second by ``writers`` processes of ``per`` creations each, and S3
    requests per creation (0 when not ``counting``)."""
    import boto3

    bucket = f"bench-create-{writers}-{secrets.token_hex(4)}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    root = f"s3://{bucket}/team"
    start_at = time.time() + 4 + writers
    env = {
        **env,
        "AWS_ENDPOINT_URL": endpoint,
        "BENCH_COUNTING": "1" if counting else "0",
    }
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CREATE_CHILD,
                root,
                index_url,
                "create",
                str(w),
                str(per),
                str(start_at),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(writers)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=3600)
        if proc.returncode != 0:
            raise RuntimeError(err[-3000:])
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = max(r["end"] for r in results) - min(r["begin"] for r in results)
    return per * writers / wall, sum(r["requests"] for r in results) / (per * writers)


def bench_create(
    index_url: str, env: dict[str, str], endpoint: str, closing: str, count: int
) -> list[Row]:
    rows: list[Row] = []
    for writers in (1, 4):
        per = count // writers
        rate, requests = create_rate(index_url, env, endpoint, writers, per, writers == 1)
        target = 25 if writers == 1 else 75
        rows.append(
            (
                f"create checkout models, s3 × PostgreSQL, {writers} writer process(es), "
                f"{per * writers} models",
                f"{rate:.1f} models/s",
                f"≥ {target}/s",
                verdict(rate >= target),
            )
        )
        if writers == 1:
            rows.append(
                ("S3 requests per create", f"{requests:.2f}", "≤ 4", verdict(requests <= 4))
            )
    rate, _ = create_rate(index_url, env, closing, 4, count // 4, False)
    rows.append(
        (
            f"… the same 4 writers against `moto_server` (a new connection per request), "
            f"{count // 4 * 4} models",
            f"{rate:.1f} models/s",
            "report",
            "",
        )
    )
    return rows


def bench_run_upload(index_url: str, env: dict[str, str], endpoint: str, mb: int) -> list[Row]:
    import boto3

    bucket = f"bench-run-{secrets.token_hex(4)}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    size = mb * 1000 * 1000
    with tempfile.TemporaryDirectory() as folder:
        result = child(
            RUN_CHILD,
            f"s3://{bucket}/team",
            index_url,
            "run",
            str(size),
            str(Path(folder) / "binned_v0.csv"),
            env=env,
        )
    ratio = result["sent"] / size
    return [
        (
            f"bytes sent to S3 for a {mb} MB run file (multipart, streamed)",
            f"{result['sent'] / 1e6:.1f} MB ({ratio:.4f}× its size)",
            "≤ 1.01×",
            verdict(ratio <= 1.01 and result["verified"]),
        ),
        (
            "extra peak memory while publishing it",
            f"{result['extra_kib'] / 1024:.0f} MiB",
            "bounded (independent of size)",
            "",
        ),
    ]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(endpoint: str) -> None:
    import urllib.request

    for _ in range(300):
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no S3 server answered at {endpoint}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--artifacts", type=int, default=100_000)
    parser.add_argument("--creates", type=int, default=800)
    parser.add_argument("--run-mb", type=int, default=350)
    parser.add_argument("--processes", type=int, default=30)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only",
        nargs="*",
        default=["listing", "create", "run"],
        help="sections: listing create run",
    )
    args = parser.parse_args()
    if args.quick:
        args.artifacts, args.creates, args.run_mb, args.processes = 5_000, 40, 40, 10
    from flowtime_sim.testing.postgres import DSN_ENV, LoopbackPostgres

    server = None
    index_url = os.environ.get(DSN_ENV)
    if not index_url:
        server = LoopbackPostgres().start()
        index_url = server.url
    # moto on loopback, answering requests from several threads (versions are allocated by
    # the index, so the bucket's conditional writes never race here) on kept-alive
    # connections; moto's own moto_server beside it, for creation only
    port, closing_port = free_port(), free_port()
    moto = subprocess.Popen(
        [sys.executable, str(HERE / "s3_server.py"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    closing_moto = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "moto_server"),
            "-H",
            "127.0.0.1",
            "-p",
            str(closing_port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    closing = f"http://127.0.0.1:{closing_port}"
    wait_for(endpoint)
    wait_for(closing)
    aws = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }
    os.environ.update(aws)
    env = {
        **os.environ,
        "FLOWTIME_SIM_CACHE_DIR": tempfile.mkdtemp(),
        "BENCH_DIR": str(HERE),
    }
    rows: list[Row] = []
    try:
        if "listing" in args.only:
            rows += bench_listing(index_url, env, args.artifacts, args.processes)
        if "create" in args.only:
            rows += bench_create(index_url, env, endpoint, closing, args.creates)
        if "run" in args.only:
            rows += bench_run_upload(index_url, env, endpoint, args.run_mb)
    finally:
        for server_process in (moto, closing_moto):
            server_process.terminate()
            server_process.wait()
        if server is not None:
            server.close()
    print("| what | measured | target | |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        f"\nmoto on loopback (Python, far slower than S3); largest child process "
        f"{peak / 1024:.0f} MiB."
    )


if __name__ == "__main__":
    main()
