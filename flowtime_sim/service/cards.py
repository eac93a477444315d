"""What the artifacts page shows of an artifact: cards, previews, run series.

A model's ``preview.svg`` is inlined into the page only when it is plain drawing markup (the
built-in renderer's output always is); anything else, say from a third-party preview plugin,
is shown through an ``<img>``, where an SVG can run nothing.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from flowtime_sim.errors import NotFoundError
from flowtime_sim.ids import ArtifactRef
from flowtime_sim.registry import ModelArtifact, RunArtifact
from flowtime_sim.registry.index import artifact_key
from flowtime_sim.service.charts import Series, area_points, read_series, spark_points
from flowtime_sim.service.views import file_url, page_url

if TYPE_CHECKING:
    from flowtime_sim.service.access import Access

SVG_TAGS = frozenset(
    {
        "svg",
        "g",
        "defs",
        "title",
        "desc",
        "marker",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "lineargradient",
        "radialgradient",
        "stop",
        "clippath",
        "symbol",
        "use",
    }
)
MAX_INLINE_SVG = 512 * 1024
CARD_SPARK = (300.0, 120.0)


@dataclass(frozen=True, slots=True)
class Picture:
    """A preview: inline SVG markup, or the URL of an image to show instead."""

    markup: Markup | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Card:
    kind: str
    id: str
    title: str
    url: str
    template: str | None
    version: int | None
    tags: list[str]
    created: str
    owner: str
    visibility: str
    subtitle: str
    picture: Picture | None = None
    spark: tuple[str, str] | None = None  # (line, area) points of the run's first series
    spark_label: str = ""


def card(access: Access, catalog: dict[str, Any]) -> Card:
    if catalog["kind"] == "model":
        return _model_card(access, catalog)
    if catalog["kind"] == "sweep":
        return _sweep_card(catalog)
    return _run_card(access, catalog)


def _sweep_card(cat: dict[str, Any]) -> Card:
    axes = ", ".join(str(g["parameter"]) for g in cat.get("grid", []))
    return Card(
        kind="sweep",
        id=str(cat["id"]),
        title=str(cat.get("name") or cat["id"]),
        url=page_url(cat),
        template=cat.get("template_id"),
        version=None,
        tags=list(cat.get("tags", [])),
        created=str(cat["created_utc"]),
        owner=str(cat.get("owner", "")),
        visibility=str(cat.get("visibility", "")),
        subtitle=f"{cat['id']} · {len(cat.get('scenarios', []))} scenarios over {axes}",
    )


def _model_card(access: Access, cat: dict[str, Any]) -> Card:
    art = ModelArtifact(cat, artifact_key(cat))
    return Card(
        kind="model",
        id=art.id,
        title=str(cat.get("name") or art.id),
        url=page_url(cat),
        template=cat.get("template_id"),
        version=art.version,
        tags=list(cat.get("tags", [])),
        created=str(cat["created_utc"]),
        owner=str(cat.get("owner", "")),
        visibility=str(cat.get("visibility", "")),
        subtitle=f"{art.id}@v{art.version}",
        picture=picture(access, art),
    )


def _run_card(access: Access, cat: dict[str, Any]) -> Card:
    run = RunArtifact(cat, artifact_key(cat))
    model = model_of(access, cat)
    mcat = model.catalog if model else {}
    series = run_series(access, run)
    first = series[0] if series else None
    return Card(
        kind="run",
        id=run.id,
        title=str(mcat.get("name") or cat.get("model_id") or run.id),
        url=page_url(cat),
        template=mcat.get("template_id"),
        version=cat.get("model_version"),
        tags=list(mcat.get("tags", [])),
        created=str(cat["created_utc"]),
        owner=str(cat.get("owner", "")),
        visibility=str(cat.get("visibility", "")),
        subtitle=f"{run.id} · {cat.get('mode', '')} · seed {cat.get('seed', '')}",
        spark=(spark_points(first.values, *CARD_SPARK), area_points(first.values, *CARD_SPARK))
        if first
        else None,
        spark_label=first.name if first else "",
    )


def model_of(access: Access, run_catalog: dict[str, Any]) -> ModelArtifact | None:
    """The model version a run came from, when there is one and the caller may see it."""
    model_id = run_catalog.get("model_id")
    if not model_id:
        return None
    try:
        return access.model(ArtifactRef(str(model_id), run_catalog.get("model_version")))
    except NotFoundError:
        return None


def run_series(access: Access, run: RunArtifact) -> list[Series]:
    if "binned_v0.csv" not in run.catalog.get("files", {}):
        return []
    series: list[Series] = _cached(
        f"series:{run.catalog['files']['binned_v0.csv']}",
        lambda: read_series(access.read_file(run, "binned_v0.csv")),
    )
    return series


def picture(access: Access, art: ModelArtifact) -> Picture | None:
    files = art.catalog.get("files", {})
    name = (
        "preview.svg"
        if "preview.svg" in files
        else next((n for n in sorted(files) if n.startswith("preview.")), None)
    )
    if name is None:
        return None
    if name != "preview.svg":
        return Picture(url=file_url(art, name))
    markup = _cached(f"svg:{files[name]}", lambda: inline_svg(access.read_file(art, name)))
    return Picture(markup=markup) if markup is not None else Picture(url=file_url(art, name))


def inline_svg(data: bytes) -> Markup | None:
    """``data`` as markup safe to inline, or None when it is anything but plain drawing."""
    if len(data) > MAX_INLINE_SVG:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lowered = text.lower()
    if "<!doctype" in lowered or "<!entity" in lowered or "<?xml-stylesheet" in lowered:
        return None
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    if _local(root.tag) != "svg":
        return None
    for element in root.iter():
        if not isinstance(element.tag, str) or _local(element.tag) not in SVG_TAGS:
            return None
        for key, value in element.attrib.items():
            if not _safe_attribute(_local(key), value.strip().lower()):
                return None
    return Markup(text[lowered.index("<svg") :])


def _safe_attribute(name: str, value: str) -> bool:
    if name.startswith("on") or name == "style":
        return False
    if name == "href":
        return value.startswith("#")
    if "url(" in value:
        return value.startswith("url(#") and value.count("url(") == 1
    return "javascript:" not in value and "data:" not in value


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def when(iso: str, now: datetime | None = None) -> str:
    """``2025-01-06T04:20:45Z`` → ``5 min ago`` (recent) or ``6 Jan 2025, 04:20 UTC``."""
    try:
        t = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return iso
    seconds = ((now or datetime.now(UTC)) - t).total_seconds()
    if 0 <= seconds < 60:
        return "just now"
    if 0 <= seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if 0 <= seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{t.day} {t:%b %Y, %H:%M} UTC"


_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()
CACHE_ENTRIES = 512


def _cached(key: str, make: Any) -> Any:
    """Previews and series by content hash: stored files never change."""
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    value = make()
    with _cache_lock:
        if len(_cache) >= CACHE_ENTRIES:
            _cache.clear()
        _cache[key] = value
    return value
