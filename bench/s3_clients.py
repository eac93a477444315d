"""boto3 against obstore for the s3 plugin's writes, on moto's server on loopback. Prints a
markdown table (columns boto3 | obstore) and the conclusions drawn from it.

    python bench/s3_clients.py [--puts 500] [--threads 4] [--stream-mib 64] [--rounds 3]

The s3 plugin writes small create-only objects through obstore and everything else through
boto3 (docs/decisions.md); this measures the two clients side by side.

* ``--puts`` create-only PUTs (``If-None-Match: *``) of 2 KiB objects, one thread: wall time,
  CPU of this process (which hosts the client, obstore's Rust threads included) and CPU of
  the S3 server, per request; median of ``--rounds`` rounds;
* a second create-only PUT of an existing key: refused, and how each client reports it;
* the same PUTs from ``--threads`` threads sharing one client: requests/s and CPU per request;
* an object of ``--stream-mib`` MiB written create-only from an iterator of 1 MiB chunks, each
  client in a brand-new process: wall time, CPU, bytes on the loopback interface (both
  directions counted once, the whole machine: keep it quiet), the requests it took, extra peak
  memory (peak RSS during the upload over RSS before it), and whether a second attempt is
  refused. boto3 goes through the plugin's own
  ``Bucket.create_stream`` (8 MiB parts, ``If-None-Match: *`` on the completion); obstore
  through ``obstore.put(..., mode="create")``, which its documentation says performs a single,
  non-multipart PUT whenever a mode other than overwrite is given. obstore's multipart upload
  (mode overwrite, not create-only) is measured beside it for reference.

The client is configured as the plugin configures it: boto3 through
``flowtime_sim_s3.location.S3Settings.client`` (standard retries, 5 attempts, a pool of 32);
obstore as an ``S3Store`` on the endpoint with ``allow_http``, dummy credentials, us-east-1.
The server is moto on loopback, served on kept-alive connections by ``bench/s3_server.py`` as S3
keeps them (``--closing``: moto's own ``moto_server``, which opens a connection per request).
moto is a Python process far slower than S3: its own CPU is reported so that the
client's share is clear, and the wall-clock figures are a floor for S3, not a forecast.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}
Put = Callable[[str, bytes], Any]


# -- the two clients, configured as the plugin would ------------------------------------------


def boto3_client(endpoint: str) -> Any:
    from flowtime_sim_s3.location import S3Settings

    return S3Settings(
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id="testing",
        secret_access_key="testing",
    ).client()


def obstore_store(endpoint: str, bucket: str) -> Any:
    from obstore.store import S3Store

    return S3Store(
        bucket,
        endpoint=endpoint,
        region="us-east-1",
        access_key_id="testing",
        secret_access_key="testing",
        client_options={"allow_http": True},
    )


def creator(name: str, endpoint: str, bucket: str) -> Put:
    """A create-only PUT of one object through ``name``'s client."""
    if name == "boto3":
        client = boto3_client(endpoint)

        def put(key: str, data: bytes) -> Any:
            return client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")

        return put
    import obstore

    store = obstore_store(endpoint, bucket)

    def put(key: str, data: bytes) -> Any:
        return obstore.put(store, key, data, mode="create")

    return put


def refusal(exc: BaseException) -> str:
    """How a client reported a refused create-only PUT."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        return f"`{type(exc).__name__}` ({code}, {status})"
    return f"`{type(exc).__module__}.{type(exc).__name__}`"


# -- measures ---------------------------------------------------------------------------------


def moto_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loopback_bytes() -> int:
    for line in Path("/proc/net/dev").read_text().splitlines():
        name, _, counters = line.partition(":")
        if name.strip() == "lo":
            return int(counters.split()[8])  # sent; on loopback each byte is also received
    return 0


def status(field: str) -> int:
    """A ``/proc/self/status`` memory figure, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak() -> int:
    """Starts the peak-memory count afresh (``VmHWM`` := ``VmRSS``); the current RSS, KiB."""
    Path("/proc/self/clear_refs").write_text("5")
    return status("VmRSS")


def puts(put: Put, keys: list[str], data: bytes, threads: int, moto: int) -> dict[str, float]:
    """Wall, client CPU and moto CPU per request, and requests/s, for ``keys`` over
    ``threads`` threads."""
    shares = [keys[i::threads] for i in range(threads)]
    errors: list[BaseException] = []

    def work(share: list[str]) -> None:
        try:
            for key in share:
                put(key, data)
        except BaseException as exc:  # reported below: a refused write spoils the figures
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(share,)) for share in shares]
    wall, cpu, server = time.perf_counter(), time.process_time(), moto_cpu(moto)
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    server = moto_cpu(moto) - server
    if errors:
        raise errors[0]
    n = len(keys)
    return {"wall": wall / n, "cpu": cpu / n, "moto": server / n, "rate": n / wall}


def median_of(results: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


# -- the streamed upload, in a brand-new process per client ------------------------------------


def chunks(total: int, size: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        chunk = os.urandom(min(size, total - sent))
        sent += len(chunk)
        yield chunk


def stream_child(name: str, endpoint: str, bucket: str, mib: int) -> dict[str, Any]:
    """Runs in its own process (``--child``): peak memory is per process."""
    size = mib * MIB
    key = f"stream/{name}-{secrets.token_hex(4)}"
    requests: list[int] = []
    if name == "boto3":
        from flowtime_sim_s3.location import S3Root, S3Settings
        from flowtime_sim_s3.objects import Bucket

        target = Bucket(
            S3Root(bucket, ""),
            S3Settings(
                endpoint_url=endpoint,
                region="us-east-1",
                access_key_id="testing",
                secret_access_key="testing",
                put_client="boto3",
            ),
        )
        target.create("warm-up/" + key, b"x")  # connect first: its memory is not the upload's
        target.client.meta.events.register(
            "before-send.s3", lambda request, **_: requests.append(request.method)
        )

        def upload() -> Any:
            return target.create_stream(key, chunks(size, MIB))

        def parts() -> int:
            head = target.client.head_object(Bucket=bucket, Key=key)
            etag = str(head["ETag"]).strip('"')
            return int(etag.rsplit("-", 1)[1]) if "-" in etag else 1
    else:
        import obstore

        store = obstore_store(endpoint, bucket)
        obstore.put(store, "warm-up/" + key, b"x", mode="create")
        mode = "create" if name == "obstore" else "overwrite"

        def upload() -> Any:
            return obstore.put(store, key, chunks(size, MIB), mode=mode)

        def parts() -> int:
            etag = str(obstore.head(store, key)["e_tag"]).strip('"')
            return int(etag.rsplit("-", 1)[1]) if "-" in etag else 1

    before = reset_peak()
    sent, wall, cpu = loopback_bytes(), time.perf_counter(), time.process_time()
    upload()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sent = loopback_bytes() - sent
    extra = status("VmHWM") - before
    count = len(requests)
    uploaded_parts = parts()
    try:
        again = upload()
        refused = "returned False (412 on the completion)" if again is False else "❌ overwritten"
    except Exception as exc:
        refused = "raised " + refusal(exc)
    return {
        "wall": wall,
        "cpu": cpu,
        "sent": sent,
        "extra_kib": extra,
        "requests": count,
        "parts": uploaded_parts,
        "refused": refused,
    }


def stream(name: str, endpoint: str, bucket: str, mib: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, endpoint, bucket, str(mib)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- moto and the table -----------------------------------------------------------------------


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


def shape(upload: dict[str, Any]) -> str:
    """What an upload took: its requests when the client lets them be counted, and whether the
    stored object was a single PUT or a multipart upload (its ETag ends in ``-<parts>``)."""
    stored = "one PUT" if upload["parts"] == 1 else f"{upload['parts']} parts"
    return f"{upload['requests']} requests, {stored}" if upload["requests"] else stored


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def measure(args: argparse.Namespace, endpoint: str, moto: int) -> list[tuple[str, ...]]:
    import boto3

    names = ["boto3", "obstore"]
    admin = boto3.client("s3", endpoint_url=endpoint)
    buckets = {}
    for name in [*names, "stream"]:
        buckets[name] = f"bench-{name}-{secrets.token_hex(4)}"
        admin.create_bucket(Bucket=buckets[name])
    put = {name: creator(name, endpoint, buckets[name]) for name in names}
    data = os.urandom(2048)
    for name in names:  # connections, botocore's models, obstore's runtime
        puts(put[name], [f"warm/{i}" for i in range(20)], data, 1, moto)

    serial: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    parallel: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    for r in range(args.rounds):  # the clients take turns, so drift on the machine hits both
        for name in names:
            keys = [f"one/{r}/{i:06d}" for i in range(args.puts)]
            serial[name].append(puts(put[name], keys, data, 1, moto))
        for name in names:
            keys = [f"many/{r}/{i:06d}" for i in range(args.puts)]
            parallel[name].append(puts(put[name], keys, data, args.threads, moto))
    one = {n: median_of(serial[n]) for n in names}
    many = {n: median_of(parallel[n]) for n in names}

    refused = {}
    for name in names:
        try:
            put[name]("one/0/000000", data)
            refused[name] = "❌ overwritten"
        except Exception as exc:
            refused[name] = "refused: " + refusal(exc)

    big = {name: stream(name, endpoint, buckets["stream"], args.stream_mib) for name in names}
    reference = stream("obstore-multipart", endpoint, buckets["stream"], args.stream_mib)

    def row(label: str, cell: Callable[[str], str]) -> tuple[str, ...]:
        return (label, *(cell(n) for n in names))

    mib = args.stream_mib
    how = {
        "boto3": "plugin's `create_stream`, 8 MiB parts",
        "obstore": '`put(iterator, mode="create")`',
    }
    return [
        row(
            f"create-only PUT, 2 KiB, 1 thread: wall per request (median of {args.rounds} × "
            f"{args.puts})",
            lambda n: ms(one[n]["wall"]),
        ),
        row("… client CPU per request (this process)", lambda n: ms(one[n]["cpu"])),
        row("… S3 server (moto) CPU per request", lambda n: ms(one[n]["moto"])),
        row("… requests/s", lambda n: f"{one[n]['rate']:.0f}/s"),
        row("second create-only PUT of an existing key", lambda n: refused[n]),
        row(
            f"create-only PUT, 2 KiB, {args.threads} threads, one client: requests/s",
            lambda n: f"{many[n]['rate']:.0f}/s",
        ),
        row("… client CPU per request", lambda n: ms(many[n]["cpu"])),
        row("… S3 server (moto) CPU per request", lambda n: ms(many[n]["moto"])),
        row(f"{mib} MiB from 1 MiB chunks, create-only: how", lambda n: how[n]),
        row(
            "… requests (where countable) and the stored object's parts",
            lambda n: shape(big[n]),
        ),
        row("… wall", lambda n: f"{big[n]['wall']:.2f} s"),
        row("… client CPU", lambda n: f"{big[n]['cpu']:.2f} s"),
        row(
            "… bytes over loopback, requests and responses",
            lambda n: f"{big[n]['sent'] / MIB:.1f} MiB ({big[n]['sent'] / (mib * MIB):.3f}×)",
        ),
        row("… extra peak memory (RSS)", lambda n: f"{big[n]['extra_kib'] / 1024:.0f} MiB"),
        row("… a second attempt on the same key", lambda n: big[n]["refused"]),
        (
            f"for reference: obstore's multipart upload of the same {mib} MiB (mode overwrite, "
            "not create-only): wall / CPU / extra memory / parts",
            "",
            f"{reference['wall']:.2f} s / {reference['cpu']:.2f} s / "
            f"{reference['extra_kib'] / 1024:.0f} MiB / {reference['parts']} parts",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--puts", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--stream-mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--closing",
        action="store_true",
        help="serve moto with moto_server (a connection per request)",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(AWS)
    if args.child:
        name, endpoint, bucket, mib = args.child
        print(json.dumps(stream_child(name, endpoint, bucket, int(mib))))
        return
    if args.quick:
        args.puts, args.stream_mib, args.rounds = 100, 16, 1
    port = free_port()
    server = (
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
        if args.closing
        else [sys.executable, str(Path(__file__).parent / "s3_server.py"), str(port)]
    )
    moto = subprocess.Popen(
        server,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for(endpoint)
        rows = measure(args, endpoint, moto.pid)
    finally:
        moto.terminate()
        moto.wait()
    print("| what | boto3 | obstore |\n|---|---|---|")
    for line in rows:
        print("| " + " | ".join(line) + " |")
    print("\nmoto on loopback (Python, far slower than S3); CPU is user + system time.")


if __name__ == "__main__":
    main()
