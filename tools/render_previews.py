"""Render preview SVGs (or models, through the built-in preview) to PNG with headless Chromium.

Usage::

    python tools/render_previews.py [--out docs/images] [--scale 2] [--max-width 3000] FILE...

Each FILE is an ``.svg`` document or a model (``.yaml``/``.yml``, SPEC §5), which is first
drawn with :func:`flowtime_sim.preview.render_svg`, titled after the file. ``NAME.svg`` and
``NAME.model.yaml`` both become ``OUT/preview-NAME.png`` (``--prefix`` changes ``preview-``);
with ``--keep-svg`` the SVG drawn for a model is written beside it. Images are drawn at
``--scale`` device pixels per CSS pixel, less for drawings so wide that the PNG would pass
``--max-width`` pixels (never below 1). Needs a ``chromium`` binary (Debian: ``apt-get install
chromium``) or ``--chromium PATH``.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--default-background-color=ffffffff",
)
PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<style>html,body{{margin:0;padding:0;background:#fff;height:100%}}
body{{display:flex;align-items:center;justify-content:center}}
svg{{display:block;flex:none}}</style>
</head><body>{svg}</body></html>
"""
#: Headless Chromium paints nothing in a window lower than about 140 px, so smaller drawings
#: are centred on a page of at least this size.
MIN_SIDE = 200


def stem(path: Path) -> str:
    """``hello.model.yaml`` -> ``hello``; ``graph.svg`` -> ``graph``."""
    name = path.name
    for suffix in (".model.yaml", ".model.yml", ".yaml", ".yml", ".svg"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def svg_for(path: Path) -> str:
    """The SVG text of ``path``: read as is, or drawn from a model file."""
    if path.suffix == ".svg":
        return path.read_text(encoding="utf-8")
    from flowtime_sim.model import load_model_file  # only needed for model files
    from flowtime_sim.preview import render_svg

    return render_svg(load_model_file(path), title=stem(path))


def svg_size(svg: str) -> tuple[int, int]:
    """The drawing's width and height in CSS pixels, rounded up."""
    root = ET.fromstring(svg)
    return math.ceil(float(root.attrib["width"])), math.ceil(float(root.attrib["height"]))


def screenshot(chromium: str, svg: str, png: Path, scale: float) -> None:
    """Write ``png``: the SVG inlined in a blank page, at ``scale`` device pixels per px."""
    width, height = (max(MIN_SIDE, side) for side in svg_size(svg))
    with tempfile.TemporaryDirectory(prefix="flowtime-previews-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(PAGE.format(svg=svg), encoding="utf-8")
        command = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--force-device-scale-factor={scale:g}",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            page.resolve().as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0 or not png.exists():
            raise RuntimeError(f"chromium failed on {png.name}: {result.stderr.strip()[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help=".svg or model .yaml files")
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="output folder")
    parser.add_argument("--scale", type=float, default=2.0, help="device pixel ratio")
    parser.add_argument("--max-width", type=int, default=3000, help="widest PNG, in pixels")
    parser.add_argument("--chromium", default=None, help="path of the chromium binary")
    parser.add_argument("--prefix", default="preview-", help="start of every image name")
    parser.add_argument("--keep-svg", action="store_true", help="also write drawn SVGs")
    args = parser.parse_args(argv)

    chromium = args.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        parser.error("no chromium found: install it (apt-get install chromium) or pass --chromium")
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.files:
        svg = svg_for(path)
        name = args.prefix + stem(path)
        png = args.out / f"{name}.png"
        if args.keep_svg and path.suffix != ".svg":
            (args.out / f"{name}.svg").write_text(svg, encoding="utf-8")
        png.unlink(missing_ok=True)
        scale = max(1.0, min(args.scale, args.max_width / svg_size(svg)[0]))
        screenshot(chromium, svg, png, scale)
        print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
