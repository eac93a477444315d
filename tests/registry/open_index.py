"""A separate process that opens the listing index at PATH at the time START_AT (a
``time.time()`` value), for the test of many processes opening a new root at once. It imports
only the index module, so that twenty of them start quickly."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from flowtime_sim.registry.index import Index

if __name__ == "__main__":
    time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))
    index = Index(Path(sys.argv[1]))
    print(index.found, flush=True)
    index.close()
