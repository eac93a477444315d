"""``flowtime-sim pack new``: a complete, publishable template-pack project.

The project files are package data under ``scaffold/project``. Every file there ends in
``.tmpl`` (so that no tool treats the half-made files as part of the host) and carries
``__UPPER_CASE__`` tokens, replaced here in file names and contents. Plain token replacement,
not Jinja2, because the project itself contains a Jinja2 template body.
"""

from __future__ import annotations

import datetime
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import Any

from flowtime_sim.errors import UserError

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*$")
MAX_NAME_LENGTH = 40
DIST_PREFIX = "flowtime-pack-"
_TOKEN = re.compile(r"__[A-Z][A-Z_]*[A-Z]__")
_SUFFIX = ".tmpl"
_RENAMED = {"gitignore": ".gitignore"}  # a real .gitignore in package data would hide files


@dataclass(frozen=True, slots=True)
class PackNames:
    """Every spelling of a pack's name, derived from what the user typed.

    ``name`` is the entry-point name (used in ``pack:template``) and the first template's id;
    ``distribution`` the name on PyPI; ``package`` the import name.
    """

    name: str
    distribution: str
    package: str
    title: str


@dataclass(frozen=True, slots=True)
class CreatedPack:
    """A scaffolded project: its folder, its names and the files written (relative, sorted)."""

    folder: Path
    names: PackNames
    files: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "name": self.names.name,
                "distribution": self.names.distribution, "package": self.names.package,
                "template": self.names.name, "files": list(self.files)}


def pack_names(raw: str) -> PackNames:
    """Normalise ``raw`` (``Coffee_Shop``, ``flowtime-pack-coffee-shop``) into :class:`PackNames`.

    Separators (``-``, ``_``, ``.``) become ``-`` as in PEP 503, letters lower-case, and a
    leading ``flowtime-pack-`` is dropped. Raises :class:`UserError` for anything else.
    """
    if not NAME_RE.fullmatch(raw):  # not match: "$" would accept a trailing newline
        raise UserError(f"invalid pack name {raw!r}: use letters and digits, optionally "
                        "joined by single '-', '_' or '.', starting with a letter "
                        "(for example coffee-shop)", field="name")
    name = re.sub(r"[-_.]+", "-", raw).lower()
    name = name.removeprefix(DIST_PREFIX)
    if name == DIST_PREFIX.rstrip("-") or not name[0].isalpha():
        raise UserError(f"invalid pack name {raw!r}: give the pack's own name, which "
                        "flowtime-pack- is put in front of (for example coffee-shop)",
                        field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise UserError(f"pack name {name!r} is {len(name)} characters long; use at most "
                        f"{MAX_NAME_LENGTH}", field="name")
    return PackNames(name=name, distribution=DIST_PREFIX + name,
                     package="flowtime_pack_" + name.replace("-", "_"),
                     title=name.replace("-", " ").capitalize())


def create_pack(name: str, folder: Path | None = None) -> CreatedPack:
    """Write a new pack project into ``folder`` (default: ``./flowtime-pack-NAME``).

    The folder must not exist or be empty. Files are written to a staging folder beside it and
    only then moved into place, so a failure leaves nothing half-made.
    """
    names = pack_names(name)
    target = Path(folder) if folder is not None else Path(names.distribution)
    if target.is_file():
        raise UserError(f"{str(target)!r} is a file, not a folder; choose another --dir",
                        field="dir")
    if target.is_dir() and any(target.iterdir()):
        raise UserError(f"folder {str(target)!r} already exists and is not empty; choose "
                        "another --dir or remove it", field="dir")
    place = target.resolve()
    place.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkdtemp: its folders are private (0700) and the project would stay so.
    staging = place.parent / f".{place.name}.{secrets.token_hex(4)}.tmp"
    staging.mkdir()
    try:
        written = _render_tree(files("flowtime_sim.scaffold").joinpath("project"), staging,
                               _tokens(names))
        _move_into_place(staging, place)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return CreatedPack(folder=target, names=names, files=tuple(sorted(written)))


def _move_into_place(staging: Path, place: Path) -> None:
    """Rename the staged project to ``place``; into it, entry by entry, when it exists (it is
    empty, and may be someone's working directory, which must not be swapped away)."""
    if not place.exists():
        os.replace(staging, place)
        return
    moved: list[Path] = []
    try:
        for entry in staging.iterdir():
            os.replace(entry, place / entry.name)
            moved.append(place / entry.name)
    except BaseException:
        for path in moved:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        raise
    staging.rmdir()


def _tokens(names: PackNames) -> dict[str, str]:
    from flowtime_sim import __version__
    from flowtime_sim.markers import PLUGIN_API_VERSION

    major = int(PLUGIN_API_VERSION.split(".")[0])
    return {
        "__NAME__": names.name,
        "__TEMPLATE_ID__": names.name,
        "__DIST__": names.distribution,
        "__PACKAGE__": names.package,
        "__TITLE__": names.title,
        "__HOST_VERSION__": __version__,
        "__PLUGIN_API_RANGE__": f">={major},<{major + 1}",
        "__YEAR__": str(datetime.date.today().year),
    }


def _substitute(text: str, tokens: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group()
        if token not in tokens:  # a bug in the package data, caught by the tests
            raise KeyError(f"unknown scaffold token {token}")
        return tokens[token]

    return _TOKEN.sub(replace, text)


def _render_tree(source: Traversable, dest: Path, tokens: dict[str, str],
                 rel: PurePosixPath | None = None) -> list[str]:
    rel = rel or PurePosixPath()
    written: list[str] = []
    for entry in sorted(source.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        name = _substitute(entry.name, tokens)
        if entry.is_dir():
            written += _render_tree(entry, dest, tokens, rel / name)
            continue
        if not name.endswith(_SUFFIX):
            continue
        name = name.removesuffix(_SUFFIX)
        path = rel / _RENAMED.get(name, name)
        out = dest.joinpath(*path.parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(_substitute(entry.read_text(encoding="utf-8"), tokens))
        written.append(str(path))
    return written
