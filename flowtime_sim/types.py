"""Typed objects that cross the plugin boundary.

Plugins return these from hooks; the host never accepts bare dicts. Each validates itself in
``__post_init__`` so a pack's mistake is caught where it is made, with the pack's name attached
by the plugin manager.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowtime_sim.registry.contracts import Index
    from flowtime_sim.storage import Storage

TEMPLATE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)


def semver_key(version: str) -> tuple[int, int, int, int, str]:
    """Sort key for a semver string: releases after their pre-releases."""
    m = SEMVER_RE.match(version)
    if m is None:
        raise ValueError(f"not a semantic version: {version!r}")
    core, _, rest = version.partition("+")[0].partition("-")
    major, minor, patch = (int(p) for p in core.split("."))
    return (major, minor, patch, 0 if rest else 1, rest)


@dataclass(frozen=True, slots=True)
class PackInfo:
    """The distribution that provided a plugin: ``name`` and ``version`` as pip knows them."""

    name: str
    version: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}


@dataclass(frozen=True, slots=True)
class TemplateManifest:
    """What a template declares about itself (SPEC §4).

    ``parameters`` is a JSON Schema object; every property should carry a ``default``.
    """

    id: str
    version: str
    title: str
    description: str = ""
    tags: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})

    def __post_init__(self) -> None:
        if not TEMPLATE_ID_RE.match(self.id):
            raise ValueError(
                f"template id {self.id!r} must match {TEMPLATE_ID_RE.pattern} "
                "(lower-case letters, digits and '-')"
            )
        if not SEMVER_RE.match(self.version):
            raise ValueError(
                f"template {self.id!r}: version {self.version!r} is not a semantic version "
                "such as 1.2.0"
            )
        if not isinstance(self.parameters, Mapping) or self.parameters.get("type") != "object":
            raise ValueError(
                f"template {self.id!r}: parameters must be a JSON Schema with type: object"
            )
        if not self.title:
            raise ValueError(f"template {self.id!r}: title must not be empty")

    def defaults(self) -> dict[str, Any]:
        """Each parameter's schema ``default`` (a fresh copy: callers may change it)."""
        import copy

        props = self.parameters.get("properties") or {}
        return {
            k: copy.deepcopy(v["default"])
            for k, v in props.items()
            if isinstance(v, Mapping) and "default" in v
        }

    @property
    def parameter_names(self) -> tuple[str, ...]:
        props = self.parameters.get("properties", {})
        return tuple(props) if isinstance(props, Mapping) else ()


@dataclass(frozen=True, slots=True)
class Template:
    """One version of one template, as a discovery hook returns it.

    ``format`` selects the renderer (``"jinja2"`` for the host's own format,
    ``"flowtime-upstream"`` for FlowTime-Sim's YAML templates); ``read_body`` returns the source
    text lazily so that listing templates never reads bodies. ``origin`` names where the body
    lives, for error messages. ``pack`` and ``plugin`` are filled in by the host.
    """

    manifest: TemplateManifest
    read_body: Callable[[], str]
    format: str = "jinja2"
    origin: str = ""
    pack: PackInfo | None = None
    plugin: str = ""  # the registering plugin's name (entry-point name); used in ``pack:id``

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def version(self) -> str:
        return self.manifest.version


@dataclass(frozen=True, slots=True)
class ParameterSources:
    """What the user supplied, in precedence order: ``file`` values override schema defaults,
    ``sets`` (``--set key=value``, values already parsed as YAML scalars) override both."""

    file: Mapping[str, Any] = field(default_factory=dict)
    sets: Mapping[str, Any] = field(default_factory=dict)
    file_name: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedParameters:
    """Validated, fully resolved parameters for one template version (defaults included)."""

    template_id: str
    template_version: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Preview:
    """A rendered preview of a model: ``content`` bytes with a media type and file name."""

    content: bytes
    media_type: str = "image/svg+xml"
    filename: str = "preview.svg"

    def __post_init__(self) -> None:
        if not isinstance(self.content, bytes) or not self.content:
            raise ValueError("preview content must be non-empty bytes")
        if "/" in self.filename or self.filename in {"", ".", "..", "catalog.json", "model.yaml"}:
            raise ValueError(f"preview file name {self.filename!r} is not allowed")


@dataclass(frozen=True, slots=True)
class StorageBackend:
    """A storage plugin's offer: the URL ``scheme`` it serves and a factory that opens a root.

    ``open(root, options)`` returns an object implementing
    :class:`flowtime_sim.storage.Storage`.
    """

    scheme: str
    open: Callable[[str, Mapping[str, str]], Storage]
    description: str = ""

    def __post_init__(self) -> None:
        if not re.match(r"^[a-z][a-z0-9+.-]*$", self.scheme):
            raise ValueError(f"storage scheme {self.scheme!r} is not a URL scheme")


@dataclass(frozen=True, slots=True)
class IndexBackend:
    """An index plugin's offer: the URL ``schemes`` it serves and a factory.

    ``open(url, storage)`` returns an object implementing
    :class:`flowtime_sim.registry.contracts.Index` for the root ``storage``; ``url`` is
    ``None`` for the default index (the embedded one beside the root).
    """

    schemes: tuple[str, ...]
    open: Callable[[str | None, Storage], Index]
    description: str = ""
    default: bool = False  # used when no --index is given

    def __post_init__(self) -> None:
        for scheme in self.schemes:
            if not re.match(r"^[a-z][a-z0-9+.-]*$", scheme):
                raise ValueError(f"index scheme {scheme!r} is not a URL scheme")
