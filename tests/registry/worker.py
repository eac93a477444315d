"""A separate process that creates models, for the concurrency and crash tests.

Usage: python worker.py ROOT MODE ARG
  same N        create the tiny model with level=N (every process the same: one v1 expected)
  version I     create the tiny model at template version 1.I.0 (distinct versions)
  loop SEED     create models with increasing levels until killed
  list 0        list the root (opening its listing index) and print {"total"}
  slow S        create the tiny model, pausing S seconds while writing its staging folder
  both I        "same 7", then "version I" (from one process: one spawn for both races)
Prints one JSON line per created model: {"id", "version", "unchanged"}.
With START_AT (a time.time() value) in the environment, it waits until then once everything
is loaded and rendered, so that many workers publish at the same moment; with HOLD=publish
too, it waits at the storage's publication step instead, after it has looked for an existing
version and found none.
"""

from __future__ import annotations

import json
import os
import sys
import time
import tomllib
from pathlib import Path

from flowtime_sim.builtin.static_pack import StaticPack
from flowtime_sim.core import Flowtime
from flowtime_sim.manifests import load_manifest_file
from flowtime_sim.markers import hookimpl
from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.types import PackInfo, ParameterSources, Template, TemplateManifest

PACK = Path(__file__).resolve().parent / "pack"


class ManyVersions:
    """The tiny template at versions 1.0.0 … 1.40.0, same body and parameters."""

    @hookimpl
    def flowtime_templates(self) -> list[Template]:
        base = load_manifest_file(PACK / "templates" / "tiny" / "template.yaml")
        out = []
        for i in range(41):
            m = base.manifest
            manifest = TemplateManifest(
                id="tiny", version=f"1.{i}.0", title=m.title, parameters=m.parameters, tags=m.tags
            )
            out.append(Template(manifest, read_body=base.read_body, origin=base.origin))
        return out


def make(root: str, many_versions: bool = False) -> Flowtime:
    host = create_plugin_host(load_entry_points=False)
    if many_versions:
        host.register(ManyVersions(), "tinypack", PackInfo("flowtime-pack-tiny", "1.0.0"))
    else:
        data = tomllib.loads((PACK / "flowtime_pack.toml").read_text())
        host.register(
            StaticPack(PACK, data, "tinypack"), "tinypack", PackInfo("flowtime-pack-tiny", "1.0.0")
        )
    return Flowtime(host=host, root=root, owner="tester")


def _wait_for_start() -> None:
    start_at = float(os.environ.get("START_AT", "0"))
    time.sleep(max(0.0, start_at - time.time()))


def _hold_at_publication() -> None:
    """Make the first publication wait for START_AT."""
    from flowtime_sim.builtin.file_storage import FileStorage

    publish = FileStorage.publish
    held: list[bool] = []

    def held_publish(self: FileStorage, key: str, files: dict[str, bytes]) -> bool:
        if not held:
            held.append(True)
            _wait_for_start()
        return publish(self, key, files)

    FileStorage.publish = held_publish  # type: ignore[method-assign]


def main() -> None:
    root, mode, arg = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "same":
        ft = make(root)
        ft.render("tiny", ParameterSources(sets={"level": arg}))  # warm: imports, templates
        if os.environ.get("HOLD") == "publish":
            _hold_at_publication()
        else:
            _wait_for_start()
        r = ft.create_model("tiny", ParameterSources(sets={"level": arg}))
        print(
            json.dumps(
                {"id": r.artifact.id, "version": r.artifact.version, "unchanged": r.unchanged}
            ),
            flush=True,
        )
    elif mode == "version":
        ft = make(root, many_versions=True)
        ft.render("tiny", version=f"1.{arg}.0")
        _wait_for_start()
        r = ft.create_model("tiny", version=f"1.{arg}.0")
        print(
            json.dumps(
                {"id": r.artifact.id, "version": r.artifact.version, "unchanged": r.unchanged}
            ),
            flush=True,
        )
    elif mode == "list":
        from flowtime_sim.registry import Query

        ft = make(root)
        _wait_for_start()
        print(json.dumps({"total": ft.list(Query()).total}), flush=True)
    elif mode == "slow":
        from flowtime_sim.builtin.file_storage import FileStorage

        write = FileStorage._write

        def slow_write(self: FileStorage, path: Path, data: bytes) -> None:
            write(self, path, data)
            time.sleep(arg)

        FileStorage._write = slow_write  # type: ignore[method-assign]
        ft = make(root)
        r = ft.create_model("tiny")
        print(
            json.dumps(
                {"id": r.artifact.id, "version": r.artifact.version, "unchanged": r.unchanged}
            ),
            flush=True,
        )
    elif mode == "both":
        ft = make(root, many_versions=True)
        ft.render("tiny", version=f"1.{arg}.0")
        _wait_for_start()
        for version in ("1.40.0", f"1.{arg}.0"):
            r = ft.create_model("tiny", ParameterSources(sets={"level": 7}), version=version)
            print(
                json.dumps(
                    {"id": r.artifact.id, "version": r.artifact.version, "unchanged": r.unchanged}
                ),
                flush=True,
            )
    elif mode == "loop":
        ft = make(root)
        level = arg * 100_000
        while True:
            level += 1
            ft.create_model("tiny", ParameterSources(sets={"level": level}))


if __name__ == "__main__":
    main()
