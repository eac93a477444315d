"""moto's S3 on loopback, served with its connections kept alive (as S3 keeps them), counting
what it receives. moto's own ``moto_server`` runs on werkzeug's development server, which
closes every connection after one response: each request then costs a new TCP connection on
both sides and a new thread in the server, which S3 clients do not pay against S3.

    python bench/s3_server.py PORT [THREADS]

``GET /_bench/counts`` answers ``{"requests": n, "bytes": b}``: the S3 requests received so
far and the bytes of their bodies.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any


def app() -> Callable[..., Iterable[bytes]]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    s3 = DomainDispatcherApplication(create_backend_app)
    counts = {"requests": 0, "bytes": 0}
    lock = threading.Lock()

    def counted(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/_bench/counts":
            with lock:
                body = json.dumps(counts).encode()
            start("200 OK", [("Content-Type", "application/json")])
            return [body]
        with lock:
            counts["requests"] += 1
            counts["bytes"] += int(environ.get("CONTENT_LENGTH") or 0)
        return s3(environ, start)  # type: ignore[no-any-return]

    return counted


def counts(endpoint: str) -> dict[str, int]:
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/_bench/counts", timeout=10) as response:
        result: dict[str, int] = json.loads(response.read())
    return result


def main() -> None:
    from waitress import serve

    port = int(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    serve(app(), host="127.0.0.1", port=port, threads=threads, _quiet=True)


if __name__ == "__main__":
    main()
