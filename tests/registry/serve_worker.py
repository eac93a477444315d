"""One ``serve`` instance over the tiny pack at many template versions, for the tests of
several service instances sharing a PostgreSQL index: ``python serve_worker.py ROOT INDEX PORT``.
"""

from __future__ import annotations

import sys

import uvicorn
from worker import make

from flowtime_sim.service import create_app


def main() -> None:
    root, index, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ft = make(root, many_versions=True)
    ft.index = index
    uvicorn.run(create_app(ft, tokens_file=""), host="127.0.0.1", port=port, log_level="error")


if __name__ == "__main__":
    main()
