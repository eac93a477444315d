"""``flowtime-sim pack new``: a complete, publishable template-pack project.

The project files are package data under ``scaffold/project``. Every file there ends in
``.tmpl`` (so that no tool treats the half-made files as part of the host) and carries
``__UPPER_CASE__`` tokens, replaced here in file names and contents. Plain token replacement,
not Jinja2, because the project itself contains a Jinja2 template body. A file ``X.python.tmpl``
replaces ``X.tmpl`` in a pack with Python hooks (``--python``) and is left out otherwise.

What the author did not give (``--author``, ``--email``, ``--url``) is written as a
placeholder from :data:`PLACEHOLDERS`, which ``flowtime-sim pack check --release`` names.
"""

from __future__ import annotations

import datetime
import json
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
_PYTHON_VARIANT = ".python"
# a real .gitignore in package data would hide files, and a dot-folder may not be shipped
_RENAMED = {"gitignore": ".gitignore", "github": ".github"}

AUTHOR_PLACEHOLDER = "Your Name"
EMAIL_PLACEHOLDER = "you@example.com"
URL_PLACEHOLDER = "https://example.com/your-repository"
COPYRIGHT_PLACEHOLDER = "<copyright holders>"
LICENSE_PLACEHOLDER = "<the text of the licence>"
#: Text a scaffold writes where the author's own is needed, and what to put there instead.
PLACEHOLDERS = {
    AUTHOR_PLACEHOLDER: "your name (pack new --author)",
    EMAIL_PLACEHOLDER: "your e-mail address (pack new --email)",
    URL_PLACEHOLDER: "the address of the pack's repository (pack new --url)",
    COPYRIGHT_PLACEHOLDER: "the copyright holders' names",
    LICENSE_PLACEHOLDER: "the full text of the licence named in pyproject.toml",
}
#: Licences whose text the scaffold writes; any other SPDX id gets a placeholder LICENSE.
LICENSE_TEXTS = ("MIT", "BSD-3-Clause")
_SPDX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")


@dataclass(frozen=True, slots=True)
class PackOptions:
    """What ``pack new`` writes into the project's metadata; ``None`` leaves a placeholder."""

    author: str | None = None
    email: str | None = None
    description: str | None = None
    url: str | None = None
    license: str = "MIT"
    python: bool = False


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
        return {
            "folder": str(self.folder),
            "name": self.names.name,
            "distribution": self.names.distribution,
            "package": self.names.package,
            "template": self.names.name,
            "files": list(self.files),
        }


def pack_names(raw: str) -> PackNames:
    """Normalise ``raw`` (``Coffee_Shop``, ``flowtime-pack-coffee-shop``) into :class:`PackNames`.

    Separators (``-``, ``_``, ``.``) become ``-`` as in PEP 503, letters lower-case, and a
    leading ``flowtime-pack-`` is dropped. Raises :class:`UserError` for anything else.
    """
    if not NAME_RE.fullmatch(raw):  # not match: "$" would accept a trailing newline
        raise UserError(
            f"invalid pack name {raw!r}: use letters and digits, optionally "
            "joined by single '-', '_' or '.', starting with a letter "
            "(for example coffee-shop)",
            field="name",
        )
    name = re.sub(r"[-_.]+", "-", raw).lower()
    name = name.removeprefix(DIST_PREFIX)
    if name == DIST_PREFIX.rstrip("-") or not name[0].isalpha():
        raise UserError(
            f"invalid pack name {raw!r}: give the pack's own name, which "
            "flowtime-pack- is put in front of (for example coffee-shop)",
            field="name",
        )
    if len(name) > MAX_NAME_LENGTH:
        raise UserError(
            f"pack name {name!r} is {len(name)} characters long; use at most {MAX_NAME_LENGTH}",
            field="name",
        )
    return PackNames(
        name=name,
        distribution=DIST_PREFIX + name,
        package="flowtime_pack_" + name.replace("-", "_"),
        title=name.replace("-", " ").capitalize(),
    )


def create_pack(
    name: str, folder: Path | None = None, options: PackOptions | None = None
) -> CreatedPack:
    """Write a new pack project into ``folder`` (default: ``./flowtime-pack-NAME``).

    The folder must not exist or be empty. Files are written to a staging folder beside it and
    only then moved into place, so a failure leaves nothing half-made.
    """
    options = options or PackOptions()
    _check_options(options)
    names = pack_names(name)
    target = Path(folder) if folder is not None else Path(names.distribution)
    if target.is_file():
        raise UserError(
            f"{str(target)!r} is a file, not a folder; choose another --dir", field="dir"
        )
    if target.is_dir() and any(target.iterdir()):
        raise UserError(
            f"folder {str(target)!r} already exists and is not empty; choose "
            "another --dir or remove it",
            field="dir",
        )
    place = target.resolve()
    place.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkdtemp: its folders are private (0700) and the project would stay so.
    staging = place.parent / f".{place.name}.{secrets.token_hex(4)}.tmp"
    staging.mkdir()
    try:
        written = _render_tree(
            files("flowtime_sim.scaffold").joinpath("project"),
            staging,
            _tokens(names, options),
            python=options.python,
        )
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


def _check_options(options: PackOptions) -> None:
    for label, value in (
        ("--author", options.author),
        ("--email", options.email),
        ("--description", options.description),
        ("--url", options.url),
    ):
        if value is not None and (not value.strip() or any(c in value for c in "\n\r")):
            raise UserError(f"{label} {value!r} must be one line of text", field=label[2:])
    if options.email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", options.email):
        raise UserError(f"--email {options.email!r} is not an e-mail address", field="email")
    if options.url is not None and not re.match(r"^https?://[^\s/]+", options.url):
        raise UserError(
            f"--url {options.url!r} must be an http(s) address, e.g. "
            "https://github.com/you/flowtime-pack-coffee-shop",
            field="url",
        )
    if not _SPDX.match(options.license):
        raise UserError(
            f"--license {options.license!r} is not an SPDX licence identifier "
            "such as MIT or Apache-2.0",
            field="license",
        )


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _metadata_tokens(names: PackNames, options: PackOptions) -> dict[str, str]:
    author = options.author or AUTHOR_PLACEHOLDER
    email = options.email or (None if options.author else EMAIL_PLACEHOLDER)
    person = f"name = {_toml(author)}" + (f", email = {_toml(email)}" if email else "")
    holder = options.author or COPYRIGHT_PLACEHOLDER
    year = str(datetime.date.today().year)
    if options.license in LICENSE_TEXTS:
        licence = (
            _licence_text(options.license).replace("__HOLDER__", holder).replace("__YEAR__", year)
        )
    else:
        licence = f"{options.license}\n\nCopyright (c) {year} {holder}\n\n{LICENSE_PLACEHOLDER}\n"
    description = options.description or f"{names.title}: a template pack for flowtime-sim."
    return {
        "__AUTHORS__": "{ " + person + " }",
        "__DESCRIPTION__": _toml(description),
        "__DESCRIPTION_TEXT__": description,
        "__URL__": options.url or URL_PLACEHOLDER,
        "__LICENSE__": options.license,
        "__LICENSE_TEXT__": licence,
    }


def _licence_text(spdx: str) -> str:
    return (
        files("flowtime_sim.scaffold")
        .joinpath("licences", f"{spdx}.txt")
        .read_text(encoding="utf-8")
    )


def _tokens(names: PackNames, options: PackOptions) -> dict[str, str]:
    from flowtime_sim import __version__
    from flowtime_sim.markers import PLUGIN_API_VERSION

    major = int(PLUGIN_API_VERSION.split(".")[0])
    return {
        **_metadata_tokens(names, options),
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


def _render_tree(
    source: Traversable,
    dest: Path,
    tokens: dict[str, str],
    rel: PurePosixPath | None = None,
    *,
    python: bool = False,
) -> list[str]:
    rel = rel or PurePosixPath()
    written: list[str] = []
    entries = sorted(source.iterdir(), key=lambda e: e.name)
    variants = {e.name for e in entries if e.name.endswith(_PYTHON_VARIANT + _SUFFIX)}
    for entry in entries:
        if entry.name == "__pycache__":
            continue
        name = _substitute(entry.name, tokens)
        if entry.is_dir():
            name = _RENAMED.get(name, name)
            written += _render_tree(entry, dest, tokens, rel / name, python=python)
            continue
        if not name.endswith(_SUFFIX):
            continue
        if entry.name in variants:
            if not python:
                continue
            name = name.removesuffix(_PYTHON_VARIANT + _SUFFIX) + _SUFFIX
        elif python and entry.name.removesuffix(_SUFFIX) + _PYTHON_VARIANT + _SUFFIX in variants:
            continue  # replaced by its Python variant
        name = name.removesuffix(_SUFFIX)
        path = rel / _RENAMED.get(name, name)
        out = dest.joinpath(*path.parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(_substitute(entry.read_text(encoding="utf-8"), tokens))
        written.append(str(path))
    return written
