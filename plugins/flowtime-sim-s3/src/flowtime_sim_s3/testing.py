"""A loopback S3 service for tests and benchmarks: moto's server, one request at a time.

moto checks ``If-None-Match``/``If-Match`` and then writes in two steps, so two of its request
threads can both pass the check; S3 performs the pair atomically. Serialising requests gives
moto S3's behaviour, which is what the concurrency tests are about.

``python -m flowtime_sim_s3.testing [PORT]`` runs one in the foreground and prints its
endpoint; the file runs as a script too, with only moto installed. Test suites reach such a
server, started once for a whole run, through :func:`session_server` and
``FLOWTIME_SIM_TEST_S3_ENDPOINT``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}


ENDPOINT_VARIABLE = "FLOWTIME_SIM_TEST_S3_ENDPOINT"


class _S3Server:
    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name


class RunningS3(_S3Server):
    """A loopback S3 server of another process, by its endpoint: filling a bucket goes over
    HTTP, and ``stop`` leaves the server to whoever started it."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")

    def start(self) -> RunningS3:
        return self

    def stop(self) -> None:
        pass

    def put_direct(self, bucket: str, objects: Mapping[str, bytes]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        client = self.client()
        with ThreadPoolExecutor(8) as pool:
            for _ in pool.map(
                lambda item: client.put_object(Bucket=bucket, Key=item[0], Body=item[1]),
                objects.items(),
            ):
                pass


def session_server() -> LoopbackS3 | RunningS3:
    """The server a test session uses: the one at ``FLOWTIME_SIM_TEST_S3_ENDPOINT`` when set
    (a CI run starts one for all its test processes), else one started in this process."""
    endpoint = os.environ.get(ENDPOINT_VARIABLE)
    return RunningS3(endpoint) if endpoint else LoopbackS3().start()


class LoopbackS3(_S3Server):
    """moto's S3 on 127.0.0.1 and a free port. ``env`` points the AWS SDK at it."""

    def __init__(self, port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def one_at_a_time(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
            with lock:
                return list(app(environ, start))

        open_connections: set[socket.socket] = set()
        self._connections = open_connections

        class Handler(MotoRequestHandler):  # type: ignore[misc]
            """Remembers its client's connection, so ``stop`` can end kept-alive ones too."""

            def setup(self) -> None:
                super().setup()
                open_connections.add(self.connection)

            def finish(self) -> None:
                open_connections.discard(self.connection)
                super().finish()

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(
            "127.0.0.1", port, one_at_a_time, threaded=True, request_handler=Handler
        )
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="loopback-s3"
        )

    def start(self) -> LoopbackS3:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Down as an outage is: no new connections, and kept-alive ones closed."""
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def put_direct(self, bucket: str, objects: Mapping[str, bytes]) -> None:
        """Store many objects at once without HTTP (only for a server in this process): for
        filling a bucket before a test, not for anything under test."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
        for key, data in objects.items():
            backend.put_object(bucket, key, data)


def main() -> None:
    server = LoopbackS3(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(server.endpoint, flush=True)
    server._server.serve_forever()


if __name__ == "__main__":
    main()
