"""``flowtime-sim pack new``: names, refusals, the files written, and a project that works.

The slow test at the end does what a new pack author does: scaffold, run the project's own
tests, build a wheel and an sdist, install the wheel into a fresh virtual environment beside
the host, use the template from the CLI, uninstall it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

import flowtime_sim
from flowtime_sim import PLUGIN_API_VERSION, scaffold
from flowtime_sim.cli import main
from flowtime_sim.errors import UserError
from flowtime_sim.manifests import load_manifest_file
from flowtime_sim.scaffold import CreatedPack, PackNames, create_pack, pack_names
from flowtime_sim.testing import check_pack, pack_host, run_template

FILES = (
    ".github/workflows/release.yml",
    ".github/workflows/test.yml",
    ".gitignore",
    "CHANGELOG.md",
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "src/flowtime_pack_coffee_shop/__init__.py",
    "src/flowtime_pack_coffee_shop/flowtime_pack.toml",
    "src/flowtime_pack_coffee_shop/templates/coffee-shop/model.yaml.j2",
    "src/flowtime_pack_coffee_shop/templates/coffee-shop/template.yaml",
    "tests/test_pack.py",
)
INVALID = (
    "use letters and digits, optionally joined by single '-', '_' or '.', starting with "
    "a letter (for example coffee-shop)"
)
ONLY_PREFIX = (
    "give the pack's own name, which flowtime-pack- is put in front of (for example coffee-shop)"
)


@pytest.fixture
def project(tmp_path: Path) -> CreatedPack:
    return create_pack("coffee-shop", tmp_path / "flowtime-pack-coffee-shop")


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("coffee-shop", "coffee-shop"),
        ("Coffee_Shop", "coffee-shop"),
        ("coffee.shop", "coffee-shop"),
        ("flowtime-pack-coffee-shop", "coffee-shop"),
        ("flowtime_pack_Coffee_shop", "coffee-shop"),
        ("q2", "q2"),
        ("A" * 40, "a" * 40),
    ],
)
def test_names_are_normalised(raw: str, name: str) -> None:
    assert pack_names(raw) == PackNames(
        name=name,
        distribution=f"flowtime-pack-{name}",
        package=f"flowtime_pack_{name.replace('-', '_')}",
        title=name.replace("-", " ").capitalize(),
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", f"invalid pack name '': {INVALID}"),
        ("coffee shop", f"invalid pack name 'coffee shop': {INVALID}"),
        ("2fast", f"invalid pack name '2fast': {INVALID}"),
        ("-coffee", f"invalid pack name '-coffee': {INVALID}"),
        ("coffee--shop", f"invalid pack name 'coffee--shop': {INVALID}"),
        ("coffee-", f"invalid pack name 'coffee-': {INVALID}"),
        ("../evil", f"invalid pack name '../evil': {INVALID}"),
        ("café", f"invalid pack name 'café': {INVALID}"),
        ("flowtime-pack", f"invalid pack name 'flowtime-pack': {ONLY_PREFIX}"),
        ("flowtime-pack-3d", f"invalid pack name 'flowtime-pack-3d': {ONLY_PREFIX}"),
        ("a" * 41, f"pack name '{'a' * 41}' is 41 characters long; use at most 40"),
    ],
)
def test_invalid_names_are_refused(raw: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        create_pack(raw, tmp_path / "out")
    assert str(err.value) == message
    assert err.value.field == "name"
    assert not (tmp_path / "out").exists()


# -- the target folder -----------------------------------------------------------------------


def test_an_existing_non_empty_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(UserError) as err:
        create_pack("coffee-shop", target)
    assert str(err.value) == (
        f"folder {str(target)!r} already exists and is not empty; choose another --dir or remove it"
    )
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # no staging folder left


def test_a_file_in_the_way_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("", encoding="utf-8")
    with pytest.raises(UserError) as err:
        create_pack("coffee-shop", target)
    assert str(err.value) == f"{str(target)!r} is a file, not a folder; choose another --dir"


def test_an_existing_empty_folder_is_used(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    created = create_pack("coffee-shop", target)
    assert created.folder == target
    assert (target / "pyproject.toml").is_file()


def test_the_working_directory_can_be_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    create_pack("coffee-shop", Path("."))
    # The folder was filled, not replaced: the shell's working directory still exists.
    assert Path.cwd() == here and (here / "pyproject.toml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here"]


def test_the_default_folder_is_named_after_the_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    created = create_pack("Coffee_Shop")
    assert created.folder == Path("flowtime-pack-coffee-shop")
    assert (tmp_path / "flowtime-pack-coffee-shop" / "pyproject.toml").is_file()


def test_a_failure_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> list[str]:
        raise OSError("disk full")

    monkeypatch.setattr(scaffold, "_render_tree", broken)
    with pytest.raises(OSError, match="disk full"):
        create_pack("coffee-shop", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_the_project_is_not_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        created = create_pack("coffee-shop", tmp_path / "out")
    finally:
        os.umask(old)
    assert stat.S_IMODE(created.folder.stat().st_mode) == 0o755


# -- what is written -------------------------------------------------------------------------


def test_the_files(project: CreatedPack) -> None:
    assert project.files == FILES
    on_disk = sorted(
        str(p.relative_to(project.folder)) for p in project.folder.rglob("*") if p.is_file()
    )
    assert on_disk == sorted(FILES)
    for rel in FILES:
        text = (project.folder / rel).read_text(encoding="utf-8")
        assert not re.search(r"__[A-Z][A-Z_]*__", text), rel  # every token was replaced
        assert "\r" not in text


def test_the_pyproject(project: CreatedPack) -> None:
    data = tomllib.loads((project.folder / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["build-system"]["build-backend"] == "hatchling.build"
    meta = data["project"]
    assert meta["name"] == "flowtime-pack-coffee-shop"
    assert meta["dependencies"] == [f"flowtime-sim>={flowtime_sim.__version__}"]
    assert meta["entry-points"] == {"flowtime_sim": {"coffee-shop": "flowtime_pack_coffee_shop"}}
    assert data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/flowtime_pack_coffee_shop"
    ]
    assert data["tool"]["pytest"]["ini_options"]["flowtime_pack"] == "coffee-shop"


def test_the_pack_manifest_accepts_this_host_and_not_the_next_major(project: CreatedPack) -> None:
    path = project.folder / "src/flowtime_pack_coffee_shop/flowtime_pack.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["templates"] == "templates"
    api = SpecifierSet(data["plugin_api"])
    assert api.contains(PLUGIN_API_VERSION)
    assert not api.contains(f"{Version(PLUGIN_API_VERSION).major + 1}.0")


def test_the_template_documents_every_parameter(project: CreatedPack) -> None:
    folder = project.folder / "src/flowtime_pack_coffee_shop/templates/coffee-shop"
    template = load_manifest_file(folder / "template.yaml")
    assert (template.id, template.version, template.manifest.title) == (
        "coffee-shop",
        "0.1.0",
        "Coffee shop",
    )
    for name, spec in template.manifest.parameters["properties"].items():
        assert {"default", "description", "examples"} <= set(spec), name
    body = template.read_body()
    assert "repeat_to(" in body and "range(" in body


def test_the_template_uses_const_pmf_and_expr(
    project: CreatedPack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(project.folder / "src"))
    host = pack_host("coffee-shop", project_dir=project.folder)
    series = run_template(
        host,
        "coffee-shop",
        {"bins": 4, "demand_profile": [1, 2], "requests_per_bin": 100, "capacity_per_bin": 150},
    )
    assert series["requests"] == [100, 200, 100, 200]
    assert series["served"] == [100, 150, 100, 150]
    assert series["unserved"] == [0, 50, 0, 50]
    assert series["items"] == pytest.approx([170, 255, 170, 255])  # E[items] = 1.7
    from flowtime_sim.testing import render_template

    kinds = {n.id: n.kind for n in render_template(host, "coffee-shop").model.nodes}
    assert set(kinds.values()) == {"const", "pmf", "expr"}


def test_the_project_passes_check_pack(
    project: CreatedPack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(project.folder / "src"))
    report = check_pack("coffee-shop", host=pack_host("coffee-shop", project_dir=project.folder))
    assert report.templates == ["coffee-shop 0.1.0"]
    assert report.notes == []
    assert len(report.cases) == 1 + 2 * 7  # the defaults, then two examples per parameter


# -- the command -----------------------------------------------------------------------------


def test_pack_new_command(runner, tmp_path: Path) -> None:
    target = tmp_path / "shop"
    result = runner.invoke(main, ["pack", "new", "coffee-shop", "--dir", str(target)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"created flowtime-pack-coffee-shop in {target}",
        *(f"  {rel}" for rel in FILES),
        "",
        "next steps:",
        f"  cd {target}",
        '  pip install -e ".[test]"',
        "  pytest",
        "  flowtime-sim templates show coffee-shop",
    ]


def test_pack_new_json(runner, tmp_path: Path) -> None:
    target = tmp_path / "shop"
    result = runner.invoke(main, ["pack", "new", "Coffee_Shop", "--dir", str(target), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "folder": str(target),
        "name": "coffee-shop",
        "distribution": "flowtime-pack-coffee-shop",
        "package": "flowtime_pack_coffee_shop",
        "template": "coffee-shop",
        "files": list(FILES),
        "warnings": [],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad name"], f"error: invalid pack name 'bad name': {INVALID}"),
        (["flowtime-pack"], f"error: invalid pack name 'flowtime-pack': {ONLY_PREFIX}"),
    ],
)
def test_pack_new_refusals_are_one_line(
    runner, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(main, ["pack", "new", *args, "--dir", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert result.stderr == message + "\n"
    assert result.stdout == ""


def test_pack_new_refuses_a_non_empty_dir(runner, tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("mine", encoding="utf-8")
    result = runner.invoke(main, ["pack", "new", "coffee-shop", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: folder {str(tmp_path)!r} already exists and is not "
        "empty; choose another --dir or remove it\n"
    )


# -- a new author's first hour ---------------------------------------------------------------


def _run(
    *args: str | Path,
    cwd: Path | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done


def _host_source() -> Path:
    source = Path(flowtime_sim.__file__).resolve().parents[1]
    if not (source / "pyproject.toml").is_file():
        pytest.skip("flowtime-sim is not installed from a source checkout")
    return source


@pytest.mark.slow
def test_scaffold_test_build_install_use_uninstall(tmp_path: Path) -> None:
    pytest.importorskip("build", reason="needs the 'build' package (pip install build)")
    source = _host_source()
    project = create_pack("coffee-shop", tmp_path / "flowtime-pack-coffee-shop").folder
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWTIME_", "PYTEST_"))}

    # Its own tests pass, from the checkout, with no edits.
    done = _run(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, env=env
    )
    assert re.search(r"^4 passed", done.stdout, re.MULTILINE), done.stdout

    # It builds a wheel and an sdist.
    _run(sys.executable, "-m", "build", "--outdir", tmp_path / "dist", project, env=env)
    built = sorted(p.name for p in (tmp_path / "dist").iterdir())
    assert built == [
        "flowtime_pack_coffee_shop-0.1.0-py3-none-any.whl",
        "flowtime_pack_coffee_shop-0.1.0.tar.gz",
    ]

    # A fresh environment with the host from this checkout and its dependencies, then the
    # wheel. This environment's pip installs into it (--python): no pip of its own to set up.
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    pip = [
        sys.executable,
        "-m",
        "pip",
        "--disable-pip-version-check",
        "--no-input",
        "--python",
        python,
    ]
    _run(*pip, "install", "-q", "-e", source, env=env)
    _run(*pip, "install", "-q", "--no-deps", tmp_path / "dist" / built[0], env=env)

    def cli(*args: str) -> object:
        root = tmp_path / "artifacts"
        done = _run(
            python,
            "-c",
            "from flowtime_sim.cli import main; main()",
            *args,
            "--json",
            env={**env, "FLOWTIME_ARTIFACTS_ROOT": str(root)},
        )
        return json.loads(done.stdout)

    listed = cli("templates")
    assert isinstance(listed, list)
    assert [(t["id"], t["pack"]) for t in listed] == [
        ("coffee-shop", {"name": "flowtime-pack-coffee-shop", "version": "0.1.0"})
    ]
    created = cli("new", "--template", "coffee-shop", "--set", "bins=6")
    assert isinstance(created, dict)
    run = cli("run", "--model", str(created["model_id"]))
    assert isinstance(run, dict)
    csv = tmp_path / "artifacts" / "runs" / str(run["run_id"]) / "binned_v0.csv"
    assert len(csv.read_text(encoding="utf-8").splitlines()) == 1 + 6 * 5

    _run(*pip, "uninstall", "-y", "flowtime-pack-coffee-shop", env=env)
    assert cli("templates") == []
