"""A pack installed and uninstalled with pip is found and forgotten by a real CLI process.

How, and why this way:

* The pack is ``tests/fixtures/packs/flowtime-pack-hello``, a complete template pack (pyproject
  with the ``flowtime_sim`` entry point, ``flowtime_pack.toml``, one template). It is built into
  a real wheel by ``pip wheel --no-deps --no-build-isolation --no-index``. Its build backend is
  the stdlib-only one shipped beside it, so the build needs neither network nor a build
  dependency in the test environment (hatchling, setuptools and wheel may all be absent).
* It is installed with ``pip --python VENV install --no-deps --no-index`` into a *fresh* virtual
  environment (``python -m venv --without-pip``), and later removed with ``pip uninstall`` the
  same way, so pip writes and deletes the dist-info, RECORD and entry points exactly as for a
  user. The new environment sees the host and its dependencies through one ``.pth`` file that
  adds the test environment's site-packages as a site directory (so its editable installs keep
  working); no index and no copy of the host are needed, which keeps this offline and fast.
* The CLI runs in a subprocess of that environment's interpreter
  (``python -c "from flowtime_sim.cli import main; main()" ...``), so discovery starts from a
  cold ``importlib.metadata`` exactly as ``flowtime-sim`` does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from flowtime_sim.model import load_model_file

pytestmark = pytest.mark.slow

PACK = Path(__file__).parent / "fixtures" / "packs" / "flowtime-pack-hello"
TEMPLATE = {
    "id": "hello-world",
    "ref": "hello:hello-world",
    "version": "0.1.0",
    "title": "Hello, world",
    "description": "Visitors arriving at a constant rate, and the share that says hello back.",
    "tags": ["demo"],
    "capabilities": ["counts"],
    "format": "jinja2",
    "pack": {"name": "flowtime-pack-hello", "version": "0.1.0"},
}


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def pip(*args: str | Path) -> None:
    done = run(sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("hello-pack")
    source = work / "src"
    shutil.copytree(PACK, source)  # the build leaves nothing behind in the repository
    pip(
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--wheel-dir",
        work / "dist",
        source,
    )
    (built,) = (work / "dist").glob("*.whl")
    assert built.name == "flowtime_pack_hello-0.1.0-py3-none-any.whl"
    return built


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A fresh environment without pip that sees the test environment's packages."""
    home = tmp_path / "venv"
    done = run(sys.executable, "-m", "venv", "--without-pip", home)
    assert done.returncode == 0, done.stderr
    python = home / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    Path(site.stdout.strip(), "_flowtime_test_env.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in ours), encoding="utf-8"
    )
    return python


def cli(python: Path, cwd: Path, *args: str, spelling: str = "main") -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWTIME_SIM_")}
    env["FLOWTIME_ARTIFACTS_ROOT"] = str(cwd / "artifacts")
    code = (
        f"import os; os.chdir({str(cwd)!r}); from flowtime_sim.cli import {spelling}; {spelling}()"
    )
    prefix = ["sim"] if spelling == "flowtime" else []
    done = run(python, "-c", code, *prefix, *args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def test_install_then_uninstall(wheel: Path, venv: Path, tmp_path: Path) -> None:
    assert TEMPLATE not in cli(venv, tmp_path, "templates", "--json")

    pip("--python", str(venv), "install", "--no-deps", "--no-index", str(wheel))
    assert TEMPLATE in cli(venv, tmp_path, "templates", "--json")
    assert TEMPLATE in cli(venv, tmp_path, "templates", "--json", spelling="flowtime")
    records = cli(venv, tmp_path, "plugins", "--json")
    assert {
        "name": "hello",
        "distribution": {"name": "flowtime-pack-hello", "version": "0.1.0"},
        "status": "loaded",
        "detail": "",
        "imported": False,
        "problems": [],
    } in records
    cli(venv, tmp_path, "new", "--template", "hello-world", "--set", "bins=3", "--out", "m.yaml")
    model = load_model_file(tmp_path / "m.yaml")
    assert [n.id for n in model.nodes] == ["visitors", "replies"]
    assert cli(venv, tmp_path, "doctor").endswith("\nno problems found\n")

    pip("--python", str(venv), "uninstall", "--yes", "flowtime-pack-hello")
    assert TEMPLATE not in cli(venv, tmp_path, "templates", "--json")
    assert "hello" not in [r["name"] for r in cli(venv, tmp_path, "plugins", "--json")]
