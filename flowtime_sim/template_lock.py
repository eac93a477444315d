"""``templates.lock``: the content of every released template version, so it never changes.

Models record the template version they were made from; a version edited after its release
makes old and new models with one id mean different things, and a store that already holds the
old text answers "unchanged". The lock lists each released ``id@version`` with the SHA-256 of its
manifest (as data, so comments and layout may change) and its body. ``flowtime-sim pack lock``
writes it into the pack's package folder (beside ``flowtime_pack.toml``), and ``check_pack``
fails when a locked version's content changed, or a locked version is gone.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flowtime_sim.types import Template, semver_key

if TYPE_CHECKING:
    from flowtime_sim.plugins import PluginHost

LOCK_NAME = "templates.lock"
LOCK_FORMAT = 1
_HEADER = """\
# The released template versions of this pack and the SHA-256 of each one's manifest and body.
# Written by 'flowtime-sim pack lock'; checked by check_pack (the pack's tests, 'pack check').
# A locked version must never change: release every change as a new template version.
"""


def content_hash(template: Template) -> str:
    """``sha256:HEX`` of the template's manifest (as data) and body (line breaks as ``\\n``)."""
    m = template.manifest
    manifest = {
        "id": m.id,
        "version": m.version,
        "title": m.title,
        "description": m.description,
        "tags": list(m.tags),
        "capabilities": list(m.capabilities),
        "parameters": m.parameters,
    }
    text = json.dumps(
        manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    body = template.read_body().replace("\r\n", "\n")
    digest = hashlib.sha256(f"{text}\n{body}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest}"


def key(template: Template) -> str:
    return f"{template.id}@{template.version}"


def read_lock(path: Path) -> dict[str, str]:
    """The ``id@version → sha256:HEX`` table of a lock file; :class:`ValueError` naming the file
    when it cannot be read."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    table = data.get("templates", {})
    if data.get("format") != LOCK_FORMAT or not isinstance(table, Mapping):
        raise ValueError(
            f"{path} is not a templates.lock of format {LOCK_FORMAT}; write it "
            "again with 'flowtime-sim pack lock'"
        )
    return {str(k): str(v) for k, v in table.items()}


def write_lock(path: Path, entries: Mapping[str, str]) -> None:
    def order(item: str) -> tuple[str, tuple[int, int, int, int, str]]:
        tid, _, version = item.rpartition("@")
        return tid, semver_key(version)

    lines = [_HEADER, f"format = {LOCK_FORMAT}", "", "[templates]"]
    lines += [f'"{k}" = "{entries[k]}"' for k in sorted(entries, key=order)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def pack_folder(host: PluginHost, plugin: str) -> Path | None:
    """The package folder of pack ``plugin`` (where its lock lives), when it has one."""
    obj = host.pm.get_plugin(plugin)
    folder = getattr(obj, "package_dir", None)
    if isinstance(folder, Path):
        return folder
    module_file = getattr(obj, "__file__", None)
    return Path(module_file).parent if isinstance(module_file, str) else None


@dataclass
class LockCheck:
    """What the lock says about a pack's templates."""

    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_lock(plugin: str, folder: Path | None, templates: Iterable[Template]) -> LockCheck:
    """Compare the templates of ``plugin`` with its lock (none yet: nothing to compare)."""
    found = LockCheck()
    path = folder / LOCK_NAME if folder is not None else None
    if path is None or not path.is_file():
        return found
    try:
        locked = read_lock(path)
    except ValueError as exc:
        found.failures.append(str(exc))
        return found
    offered = {key(t): t for t in templates}
    for name, tpl in sorted(offered.items()):
        if name not in locked:
            found.notes.append(
                f"{tpl.id} {tpl.version} is not in {LOCK_NAME} yet; run "
                f"'flowtime-sim pack lock {plugin}' when you release it"
            )
            continue
        now = content_hash(tpl)
        if now != locked[name]:
            found.failures.append(
                f"{tpl.id} {tpl.version} changed after its release ({LOCK_NAME} has "
                f"{locked[name][:15]}…, its files give {now[:15]}…): a released template "
                "version must never change, or models made from it change meaning; restore "
                "it and release the change as a new version (a new folder with a higher "
                "version)"
            )
    for name in sorted(set(locked) - set(offered)):
        tid, _, version = name.rpartition("@")
        found.failures.append(
            f"{tid} {version} is in {LOCK_NAME} but the pack no longer "
            "offers it: users' models were made from it; restore its folder"
        )
    return found


@dataclass
class LockUpdate:
    path: Path
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def update_lock(folder: Path, templates: Iterable[Template], *, force: bool = False) -> LockUpdate:
    """Lock every template version; refuse (``ValueError``) to relock a changed or removed
    version unless ``force``."""
    path = folder / LOCK_NAME
    locked = read_lock(path) if path.is_file() else {}
    update = LockUpdate(path)
    entries = dict(locked)
    offered = {key(t): t for t in templates}
    for name, tpl in sorted(offered.items()):
        digest = content_hash(tpl)
        if name not in locked:
            update.added.append(name)
        elif locked[name] != digest:
            update.changed.append(name)
        else:
            update.kept.append(name)
        entries[name] = digest
    update.removed = sorted(set(locked) - set(offered))
    if (update.changed or update.removed) and not force:
        what = ", ".join(n.replace("@", " ") for n in update.changed + update.removed)
        raise ValueError(
            f"{what}: locked, and changed or removed since; a released template "
            "version must never change: restore it and release the change as a "
            "new version (--force relocks a version that was never released)"
        )
    for name in update.removed:
        del entries[name]
    write_lock(path, entries)
    return update
