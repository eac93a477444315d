"""Commands load only what they need: a heavy import slipping onto a light path is what the
benchmarks would otherwise be the first to notice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROBE = """
import sys
sys.argv = ["flowtime-sim", *sys.argv[1:]]
from flowtime_sim.cli import main
try:
    main()
except SystemExit:
    pass
heavy = {"numpy", "jinja2", "jsonschema", "rich", "fastapi", "uvicorn", "pydantic",
         "jsonschema_rs", "rfc8785", "sqlite3", "boto3", "flowtime_pack_checkout"}
print("loaded:", *sorted(heavy & {name.partition(".")[0] for name in sys.modules}),
      file=sys.stderr)
"""


def loaded(*args: str, cwd: Path) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd, check=True
    )
    marker, *names = result.stderr.strip().splitlines()[-1].split()
    assert marker == "loaded:", result.stderr
    return set(names)


def test_help_and_templates_import_nothing_heavy(tmp_path: Path) -> None:
    assert loaded("--help", cwd=tmp_path) == set()
    # templates come from the packs' manifests, without importing the packs' code
    assert loaded("templates", cwd=tmp_path) == set()


def test_new_to_a_file_renders_without_jsonschema_numpy_or_the_service(tmp_path: Path) -> None:
    out = tmp_path / "m.yaml"
    assert loaded("new", "--template", "checkout", "--out", str(out), cwd=tmp_path) == {
        "jinja2",
        "jsonschema_rs",
    }
    assert out.read_text().startswith("schemaVersion: 1")
