"""A pack's preview renderer wins over the built-in one (registered trylast)."""

from __future__ import annotations

from flowtime_sim import Preview, hookimpl
from flowtime_sim.core import Flowtime
from flowtime_sim.model import parse_model
from flowtime_sim.plugins import create_plugin_host

MODEL = parse_model(
    "schemaVersion: 1\ngrid: {bins: 1, binSize: 1, binUnit: hours}\n"
    "nodes:\n  - {id: a, kind: const, values: [1]}\n"
)


class PngPreview:
    @hookimpl
    def flowtime_render_preview(self, model, title):
        return Preview(content=b"\x89PNG fake", media_type="image/png", filename="preview.png")


class Declines:
    @hookimpl
    def flowtime_render_preview(self, model, title):
        return None


def test_builtin_renders_svg_when_alone() -> None:
    ft = Flowtime(host=create_plugin_host(load_entry_points=False))
    preview = ft.preview(MODEL, "t")
    assert preview.media_type == "image/svg+xml" and preview.content.startswith(b"<svg")


def test_pack_preview_wins_and_is_stored(tmp_path) -> None:
    host = create_plugin_host(load_entry_points=False, plugins=[("png-pack", PngPreview())])
    assert Flowtime(host=host).preview(MODEL, "t").content == b"\x89PNG fake"


def test_a_renderer_returning_none_falls_through_to_the_builtin() -> None:
    host = create_plugin_host(load_entry_points=False, plugins=[("declines", Declines())])
    assert Flowtime(host=host).preview(MODEL, None).content.startswith(b"<svg")
