"""Artifact ids: the grammar users may type, slugs, and safe path building (SPEC §6)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flowtime_sim.errors import UserError

REF_RE = re.compile(r"^(?P<id>[a-z0-9][a-z0-9._-]{0,127})(?:@v(?P<version>[1-9][0-9]{0,8}))?$")
SLUG_MAX = 100  # leaves room for "_" + 8 hex digits within 128 characters


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """``ID`` or ``ID@vN`` as a user typed it, already checked against the grammar."""

    id: str
    version: int | None = None

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}@v{self.version}"


def parse_ref(text: str, *, what: str = "artifact id", allow_version: bool = True) -> ArtifactRef:
    """Check ``text`` before any path is built from it; refuse everything outside the grammar."""
    m = REF_RE.fullmatch(text) if isinstance(text, str) else None
    if m is None or (m.group("version") and not allow_version):
        shown = text if isinstance(text, str) and len(text) <= 140 else f"{str(text)[:137]}..."
        suffix = "[@vN]" if allow_version else ""
        raise UserError(
            f"invalid {what} {shown!r}: ids are lower-case letters, digits, '.', '_' "
            f"and '-', start with a letter or digit, at most 128 characters, "
            f"optionally followed by @vN (expected ID{suffix})",
            field="id",
        )
    version = m.group("version")
    return ArtifactRef(m.group("id"), int(version) if version else None)


def check_id(text: str, *, what: str = "artifact id") -> str:
    return parse_ref(text, what=what, allow_version=False).id


def slugify(name: str) -> str:
    """Lower-case ``name`` to ``[a-z0-9-]``: other characters become '-', runs collapse."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_MAX].strip("-")
    if not slug:
        raise UserError(
            f"name {name!r} has no letters or digits to build an id from; pass --name with some",
            field="name",
        )
    return slug
