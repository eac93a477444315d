"""tools/render_previews.py: naming, its one error message, and a real headless render."""

from __future__ import annotations

import importlib.util
import shutil
import struct
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "render_previews.py"
HELLO = """\
schemaVersion: 1
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes:
  - {id: demand, kind: const, values: [1, 2]}
  - {id: served, kind: expr, expr: "demand * 2"}
"""


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_previews", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_image_names_drop_model_and_svg_suffixes(tool: ModuleType) -> None:
    assert tool.stem(Path("x/hello.model.yaml")) == "hello"
    assert tool.stem(Path("checkout.yml")) == "checkout"
    assert tool.stem(Path("graph.svg")) == "graph"


def test_missing_chromium_is_reported(
    tool: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tool.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as exit_info:
        tool.main(["model.yaml"])
    assert exit_info.value.code == 2
    assert (
        "no chromium found: install it (apt-get install chromium) or pass --chromium"
        in capsys.readouterr().err
    )


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs the chromium binary")
def test_renders_a_model_file_to_png(tool: ModuleType, tmp_path: Path) -> None:
    model = tmp_path / "hello.model.yaml"
    model.write_text(HELLO, encoding="utf-8")
    assert tool.main(["--out", str(tmp_path / "out"), "--keep-svg", str(model)]) == 0
    png = (tmp_path / "out" / "preview-hello.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    svg_width, svg_height = tool.svg_size((tmp_path / "out" / "preview-hello.svg").read_text())
    assert width == 2 * max(tool.MIN_SIDE, svg_width)
    assert height == 2 * max(tool.MIN_SIDE, svg_height)
