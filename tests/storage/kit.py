"""Backends under test and a façade around the tiny fixture pack.

Run as a script it is "another machine": ``python kit.py ROOT CACHE_DIR same LEVEL`` creates
the tiny model (printing one JSON line), with its own listing cache.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowtime_sim.builtin.static_pack import StaticPack
from flowtime_sim.core import Flowtime
from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.types import PackInfo, ParameterSources

PACK = Path(__file__).resolve().parents[1] / "registry" / "pack"
S3_READY = all(importlib.util.find_spec(m) is not None for m in ("moto", "flowtime_sim_s3"))
S3_MISSING = (
    "the S3 backend needs moto[server] and flowtime-sim-s3: "
    "pip install -e 'plugins/flowtime-sim-s3[test]'"
)


def make(root: str, options: Mapping[str, str] | None = None, index: str | None = None) -> Flowtime:
    """A façade with only the built-ins, the tiny pack and (when installed) the s3 backend;
    ``index`` is an ``--index`` URL (``None``: the embedded SQLite index)."""
    host = create_plugin_host(load_entry_points=False)
    data = tomllib.loads((PACK / "flowtime_pack.toml").read_text())
    host.register(
        StaticPack(PACK, data, "tinypack"), "tinypack", PackInfo("flowtime-pack-tiny", "1.0.0")
    )
    if root.startswith("s3://"):
        import flowtime_sim_s3

        host.register(flowtime_sim_s3, "s3", PackInfo("flowtime-sim-s3", "0.1.0"))
    return Flowtime(host=host, root=root, owner="tester", storage_options=options, index=index)


@dataclass
class Backend:
    """One root of one backend, with raw access for what the contract cannot do itself."""

    name: str
    root: str
    cache_dir: Path
    server: Any = None  # LoopbackS3 for s3
    bucket: str = ""
    index: str | None = None  # a postgresql:// URL, or None for SQLite

    def flowtime(self, cache_dir: Path | None = None) -> Flowtime:
        options = {"cache_dir": str(cache_dir or self.cache_dir)} if self.name == "s3" else {}
        return make(self.root, options, self.index)

    def overwrite(self, key: str, data: bytes) -> None:
        """Change stored bytes behind the backend's back (tampering)."""
        if self.name == "file":
            path = Path(self.root, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        else:
            self.server.client().put_object(Bucket=self.bucket, Key=f"root/{key}", Body=data)

    def inject_folders(self, folders: Mapping[str, Mapping[str, bytes]]) -> None:
        """Store many published folders quickly, laid out exactly as ``publish`` leaves them."""
        if self.name == "file":
            for key, files in folders.items():
                for name, data in files.items():
                    self.overwrite(f"{key}/{name}", data)
            return
        from flowtime_sim_s3.storage import MARKER

        objects = {}
        for key, files in folders.items():
            marker = {"staging": "injected", "files": sorted(files)}
            objects[f"root/{key}/{MARKER}"] = json.dumps(marker).encode()
            objects.update({f"root/{key}/{name}": data for name, data in files.items()})
        self.server.put_direct(self.bucket, objects)

    def inject_files(self, files: Mapping[str, bytes]) -> None:
        """Store plain files (ledger records, tombstones) quickly."""
        if self.name == "file":
            for key, data in files.items():
                self.overwrite(key, data)
            return
        self.server.put_direct(self.bucket, {f"root/{k}": v for k, v in files.items()})

    def stored_keys(self) -> list[str]:
        """Every stored key (files), relative to the root."""
        if self.name == "file":
            base = Path(self.root)
            return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())
        paginator = self.server.client().get_paginator("list_objects_v2")
        return sorted(
            o["Key"].removeprefix("root/")
            for page in paginator.paginate(Bucket=self.bucket, Prefix="root/")
            for o in page.get("Contents", [])
        )


def main() -> None:
    root, cache, mode, arg = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    os.environ["FLOWTIME_SIM_CACHE_DIR"] = cache
    if mode == "same":
        r = make(root).create_model("tiny", ParameterSources(sets={"level": arg}))
        print(
            json.dumps(
                {"id": r.artifact.id, "version": r.artifact.version, "unchanged": r.unchanged}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
