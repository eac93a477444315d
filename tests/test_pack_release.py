"""Releasing a pack: the scaffold's options and placeholders, ``pack check --release``,
``templates.lock`` (``pack lock``, and ``check_pack`` failing when a released version changes),
names that clash with installed packs, and how a failed ``check_pack`` reads in pytest."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

import flowtime_sim
from flowtime_sim.scaffold import PackOptions, create_pack

pytest_plugins = ["pytester"]
Cli = Callable[..., Result]

OPTIONS = PackOptions(
    author="Ada Lovelace",
    email="ada@example.org",
    description="Queues of a small bakery.",
    url="https://github.com/ada/flowtime-pack-demo",
    license="BSD-3-Clause",
)


@pytest.fixture(autouse=True)
def _forget_projects(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``pack check``/``pack lock`` put a project's source on sys.path: take it off again."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for name in [m for m in sys.modules if m.startswith("flowtime_pack_demo")]:
        del sys.modules[name]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A scaffolded pack 'demo' (not installed); forgotten by the import system afterwards."""
    before = set(sys.modules)
    folder = create_pack("demo", tmp_path / "flowtime-pack-demo").folder
    yield folder
    for name in set(sys.modules) - before:
        if name.startswith("flowtime_pack_demo"):
            del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not p.startswith(str(tmp_path))]


# -- the scaffold's options and its release check ---------------------------------------------


def test_options_fill_the_metadata(tmp_path: Path) -> None:
    folder = create_pack("demo", tmp_path / "p", OPTIONS).folder
    meta = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["authors"] == [{"name": "Ada Lovelace", "email": "ada@example.org"}]
    assert meta["description"] == "Queues of a small bakery."
    assert meta["license"] == "BSD-3-Clause"
    assert meta["urls"] == {
        "Homepage": "https://github.com/ada/flowtime-pack-demo",
        "Source": "https://github.com/ada/flowtime-pack-demo",
        "Issues": "https://github.com/ada/flowtime-pack-demo/issues",
    }
    licence = (folder / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("BSD 3-Clause License\n\nCopyright (c) ")
    assert "Ada Lovelace" in licence.splitlines()[2]
    assert "Queues of a small bakery." in (folder / "README.md").read_text(encoding="utf-8")
    for workflow in ("test.yml", "release.yml"):
        text = (folder / ".github" / "workflows" / workflow).read_text(encoding="utf-8")
        assert "pytest" in text
    assert "flowtime-sim pack check --release" in (
        folder / ".github/workflows/release.yml"
    ).read_text(encoding="utf-8")
    assert "## 0.1.0" in (folder / "CHANGELOG.md").read_text(encoding="utf-8")
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert '. .venv/bin/activate && pip install -e ".[test]" && pytest' in readme


def test_an_author_without_an_email_gets_no_placeholder(tmp_path: Path) -> None:
    folder = create_pack("demo", tmp_path / "p", PackOptions(author='Zoë "Z" Ng')).folder
    meta = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["authors"] == [{"name": 'Zoë "Z" Ng'}]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (PackOptions(email="nope"), "--email 'nope' is not an e-mail address"),
        (
            PackOptions(url="github.com/x"),
            "--url 'github.com/x' must be an http(s) address, e.g. "
            "https://github.com/you/flowtime-pack-coffee-shop",
        ),
        (
            PackOptions(license="MIT License"),
            "--license 'MIT License' is not an SPDX licence identifier such as MIT or Apache-2.0",
        ),
        (PackOptions(author="a\nb"), "--author 'a\\nb' must be one line of text"),
    ],
)
def test_bad_options_are_refused(
    runner, tmp_path: Path, options: PackOptions, message: str
) -> None:
    from flowtime_sim.cli import main

    args = [
        f"--{k}={v}"
        for k, v in (("author", options.author), ("email", options.email), ("url", options.url))
        if v is not None
    ]
    if options.license != "MIT":
        args.append(f"--license={options.license}")
    result = runner.invoke(main, ["pack", "new", "demo", "--dir", str(tmp_path / "x"), *args])
    assert (result.exit_code, result.stderr) == (1, f"error: {message}\n")
    assert not (tmp_path / "x").exists()


def test_another_licence_leaves_its_text_to_the_author(tmp_path: Path) -> None:
    folder = create_pack("demo", tmp_path / "p", PackOptions(license="Apache-2.0")).folder
    assert (folder / "LICENSE").read_text(encoding="utf-8").startswith("Apache-2.0\n")


def test_the_release_check_names_every_placeholder(cli: Cli, project: Path) -> None:
    result = cli("pack", "check", "--release", "--no-run", "--dir", str(project))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    url = (
        "placeholder 'https://example.com/your-repository'; replace it with the address of "
        "the pack's repository (pack new --url)"
    )
    assert lines[lines.index("release check: 7 problem(s)") + 1 :] == [
        "  - pyproject.toml line 14: placeholder 'Your Name'; replace it with your name "
        "(pack new --author)",
        "  - pyproject.toml line 14: placeholder 'you@example.com'; replace it with your "
        "e-mail address (pack new --email)",
        f"  - pyproject.toml line 23: {url}",
        f"  - pyproject.toml line 24: {url}",
        f"  - pyproject.toml line 25: {url}",
        "  - LICENSE line 3: placeholder '<copyright holders>'; replace it with the copyright "
        "holders' names",
        "  - templates.lock is missing; run 'flowtime-sim pack lock demo' to record the "
        "template versions you release",
    ]


def test_a_project_made_with_options_and_locked_is_ready(cli: Cli, tmp_path: Path) -> None:
    folder = create_pack("demo", tmp_path / "p", OPTIONS).folder
    result = cli("pack", "lock", "--dir", str(folder))
    assert result.exit_code == 0, result.stderr
    lock = folder / "src" / "flowtime_pack_demo" / "templates.lock"
    assert result.stdout == f"locked demo 0.1.0\n{lock}: 1 template version(s) locked\n"
    result = cli("pack", "check", "--release", "--no-run", "--dir", str(folder), "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert (report["ok"], report["release"], report["failures"]) == (True, [], [])


# -- templates.lock -------------------------------------------------------------------------


def test_editing_a_released_version_fails_the_packs_tests(
    pytester: pytest.Pytester, cli: Cli
) -> None:
    project = create_pack("demo", pytester.path).folder
    assert cli("pack", "lock", "--dir", str(project)).exit_code == 0
    lock = project / "src" / "flowtime_pack_demo" / "templates.lock"
    assert re.fullmatch(
        r'"demo@0\.1\.0" = "sha256:[0-9a-f]{64}"', lock.read_text(encoding="utf-8").splitlines()[-1]
    )
    manifest = project / "src/flowtime_pack_demo/templates/demo/template.yaml"
    # comments and layout are not content
    manifest.write_text("# a comment\n" + manifest.read_text(encoding="utf-8"), encoding="utf-8")
    assert cli("pack", "check", "--no-run", "--dir", str(project)).exit_code == 0
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("default: 24", "default: 25"), encoding="utf-8"
    )
    pytester.chdir()  # the cli fixture works in another folder
    # a process of its own: modules first imported in an in-process run (numpy) are dropped
    # after it, and cannot be imported again
    # -rN: no short summary, which repeats the message when the terminal is wide enough
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rN")
    result.assert_outcomes(failed=1, passed=3)
    out = result.stdout.str()
    failure = re.search(
        r"  - demo 0\.1\.0 changed after its release \(templates\.lock has "
        r"sha256:[0-9a-f]{8}…, its files give sha256:[0-9a-f]{8}…\): a released "
        r"template version must never change, or models made from it change "
        r"meaning; restore it and release the change as a new version \(a new "
        r"folder with a higher version\)",
        out,
    )
    assert failure is not None, out
    assert out.count("changed after its release") == 1  # once, not once per case
    assert "def check_pack" not in out and "checks.py" not in out  # no kit source
    # pack lock refuses to bless the change
    result = cli("pack", "lock", "--dir", str(project))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: demo 0.1.0: locked, and changed or removed since; a "
        "released template version must never change: restore it and "
        "release the change as a new version (--force relocks a version "
        "that was never released)\n"
    )
    result = cli("pack", "lock", "--force", "--dir", str(project))
    assert result.stdout.splitlines()[0] == "relocked demo 0.1.0"
    for name in [m for m in sys.modules if m.startswith(("flowtime_pack_demo", "test_pack"))]:
        del sys.modules[name]


def test_a_new_version_is_noted_until_locked_and_a_removed_one_fails(
    cli: Cli, project: Path
) -> None:
    assert cli("pack", "lock", "--dir", str(project)).exit_code == 0
    templates = project / "src" / "flowtime_pack_demo" / "templates"
    newer = templates / "demo-0.2"
    newer.mkdir()
    for name in ("template.yaml", "model.yaml.j2"):
        text = (templates / "demo" / name).read_text(encoding="utf-8")
        (newer / name).write_text(
            text.replace("version: 0.1.0", "version: 0.2.0"), encoding="utf-8"
        )
    result = cli("pack", "check", "--no-run", "--dir", str(project), "--json")
    assert json.loads(result.stdout)["notes"] == [
        "demo 0.2.0 is not in templates.lock yet; run 'flowtime-sim pack lock demo' when you "
        "release it"
    ]
    result = cli("pack", "lock", "--dir", str(project))
    assert result.stdout.splitlines()[0] == "locked demo 0.2.0"
    for path in (templates / "demo").iterdir():
        path.unlink()
    (templates / "demo").rmdir()
    result = cli("pack", "check", "--no-run", "--dir", str(project))
    assert result.exit_code == 1
    assert (
        "  - demo 0.1.0 is in templates.lock but the pack no longer offers it: users' "
        "models were made from it; restore its folder"
    ) in result.stdout.splitlines()


def test_an_unlocked_version_and_missing_files_keep_a_project_from_release(
    cli: Cli, tmp_path: Path
) -> None:
    folder = create_pack("demo", tmp_path / "p", OPTIONS).folder
    assert cli("pack", "lock", "--dir", str(folder)).exit_code == 0
    templates = folder / "src" / "flowtime_pack_demo" / "templates"
    (templates / "demo-0.2").mkdir()
    for name in ("template.yaml", "model.yaml.j2"):
        text = (templates / "demo" / name).read_text(encoding="utf-8")
        (templates / "demo-0.2" / name).write_text(
            text.replace("version: 0.1.0", "version: 0.2.0"), encoding="utf-8"
        )
    (folder / "README.md").unlink()
    result = cli("pack", "check", "--release", "--no-run", "--dir", str(folder), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["release"] == [
        "README.md is missing",
        "demo 0.2.0 is not locked; run 'flowtime-sim pack lock demo'",
    ]


def test_an_unreadable_lock_is_a_failure(cli: Cli, project: Path) -> None:
    lock = project / "src" / "flowtime_pack_demo" / "templates.lock"
    lock.write_text("[templates\n", encoding="utf-8")
    result = cli("pack", "check", "--no-run", "--dir", str(project))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1].startswith(f"  - cannot read {lock}: ")
    lock.write_text('[templates]\n"demo@0.1.0" = "sha256:00"\n', encoding="utf-8")
    result = cli("pack", "check", "--no-run", "--dir", str(project))
    assert result.stdout.splitlines()[1] == (
        f"  - {lock} is not a templates.lock of format 1; write it again with "
        "'flowtime-sim pack lock'"
    )
    result = cli("pack", "lock", "--dir", str(project))
    assert result.stderr == (
        f"error: {lock} is not a templates.lock of format 1; write it again with "
        "'flowtime-sim pack lock'\n"
    )


def test_a_pack_without_a_package_folder_cannot_be_locked(
    cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtime_sim import template_lock

    monkeypatch.setattr(template_lock, "pack_folder", lambda host, plugin: None)
    result = cli("pack", "lock", "--dir", str(project))
    assert result.stderr == ("error: pack 'demo' has no package folder to keep templates.lock in\n")


def test_which_pack_to_check_or_lock(cli: Cli, tmp_path: Path) -> None:
    for command in ("check", "lock"):
        result = cli("pack", command, "--dir", str(tmp_path))
        assert result.exit_code == 1
        assert result.stderr == (
            f"error: which pack? {tmp_path / 'pyproject.toml'} declares no pack; give its "
            "name: the entry point's name under [project.entry-points.flowtime_sim]\n"
        )


# -- names that clash with installed packs ---------------------------------------------------


def test_pack_new_warns_about_an_installed_packs_names(cli: Cli, tmp_path: Path) -> None:
    result = cli("pack", "new", "checkout", "--dir", str(tmp_path / "shop"))
    assert result.exit_code == 0
    version = flowtime_sim_version_of("flowtime-pack-checkout")
    assert result.stderr == (
        f"warning: pack name 'checkout' is already the entry point of flowtime-pack-checkout "
        f"{version} (installed); the two packs could not be installed together: choose another "
        "name\n"
        "warning: template id 'checkout' is already offered by pack checkout; users of both "
        "packs would have to write checkout:checkout: rename the template\n"
    )
    assert cli("pack", "new", "unheard-of", "--dir", str(tmp_path / "new")).stderr == ""


def test_pack_new_warns_about_an_installed_distribution(
    cli: Cli, fake_dist, tmp_path: Path
) -> None:
    fake_dist("pack_a", entry_points={"other-name": "pack_a"})
    result = cli("pack", "new", "pack-a", "--dir", str(tmp_path / "a"))
    assert result.stderr == (
        "warning: distribution flowtime-pack-pack-a is already installed "
        "(flowtime-pack-pack-a 1.0): choose another name\n"
    )


def test_pack_check_warns_when_two_distributions_claim_the_name(cli: Cli, fake_dist) -> None:
    fake_dist("pack_a")
    fake_dist("pack_b", entry_points={"pack_a": "pack_b"})
    result = cli("pack", "check", "pack_a", "--no-run")
    assert (
        "warning: pack name 'pack_a' is the entry point of several installed distributions "
        "(flowtime-pack-pack-a 1.0, flowtime-pack-pack-b 1.0); only one of them loads: rename "
        "the pack or uninstall the others"
    ) in result.stderr.splitlines()


def flowtime_sim_version_of(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def test_pack_check_and_doctor_warn_about_shared_template_ids(cli: Cli, fake_dist) -> None:
    fake_dist("pack_a")
    fake_dist("pack_b")
    result = cli("pack", "check", "pack_a", "--no-run")
    assert result.stderr == (
        "warning: template id 'hello' is also offered by pack pack_b; "
        "users of both packs must write pack_a:hello: rename the "
        "template\n"
    )
    result = cli("doctor")
    assert (
        "warning: template id 'hello' is offered by packs pack_a, pack_b; users must write "
        "pack_a:hello or pack_b:hello: rename the template in one of them"
    ) in result.stdout.splitlines()


# -- the Python-hooks variant ----------------------------------------------------------------


def test_the_python_variant_imports_the_pack_and_passes_its_tests(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    created = create_pack("demo", tmp_path / "p", PackOptions(python=True))
    assert created.files == tuple(sorted(created.files))
    for path in created.folder.iterdir():
        pytester.path.joinpath(path.name).symlink_to(path)
    package = created.folder / "src" / "flowtime_pack_demo"
    assert "python = true" in (package / "flowtime_pack.toml").read_text(encoding="utf-8")
    assert "def flowtime_templates()" in (package / "__init__.py").read_text(encoding="utf-8")
    pytester.makepyfile(
        test_imported="""
        def test_imported(flowtime_host):
            (record,) = [r for r in flowtime_host.records if r.name == "demo"]
            assert (record.status, record.static) == ("loaded", False)
    """
    )
    try:
        pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "tests", "test_imported.py"
        ).assert_outcomes(passed=5)
    finally:
        for name in [m for m in sys.modules if m.startswith("flowtime_pack_demo")]:
            del sys.modules[name]


# -- build and check the distribution --------------------------------------------------------


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWTIME_", "PYTEST_"))}
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_a_project_made_with_options_tests_builds_and_passes_twine_check(tmp_path: Path) -> None:
    pytest.importorskip("build", reason="needs the 'build' package")
    pytest.importorskip("twine", reason="needs twine")
    source = Path(flowtime_sim.__file__).resolve().parents[1]
    if not (source / "pyproject.toml").is_file():
        pytest.skip("flowtime-sim is not installed from a source checkout")
    folder = create_pack("demo", tmp_path / "p", OPTIONS).folder
    done = _run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=folder)
    assert re.search(r"^4 passed", done.stdout, re.MULTILINE), done.stdout
    _run(sys.executable, "-m", "build", "--outdir", tmp_path / "dist", folder)
    built = sorted((tmp_path / "dist").iterdir())
    done = _run(sys.executable, "-m", "twine", "check", "--strict", *built)
    assert done.stdout.count("PASSED") == 2, done.stdout
