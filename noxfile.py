"""Every check of the project: ``nox -s tests``, ``packs``, ``lint``, ``typecheck``, ``docs``,
``bench``. CI runs the same sessions."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PACKS = ["template_packs/checkout", "template_packs/ecommerce"]
PLUGINS = ["plugins/flowtime-sim-s3[test]"]
PYTHON = "3.11"


def install_project(session: nox.Session, *extras: str) -> None:
    spec = "." + (f"[{','.join(extras)}]" if extras else "")
    session.install("-e", spec, *[arg for p in PACKS + PLUGINS for arg in ("-e", p)])


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite: host, packs and plugins, against really installed packs (and
    the documentation site, whose generated pages the tests read)."""
    install_project(session, "test", "docs")
    session.run(
        "pytest",
        "-n",
        "auto",
        "--dist",
        "loadgroup",
        *session.posargs,
        "tests",
        *[f"{p.partition('[')[0]}/tests" for p in PACKS + PLUGINS],
    )


@nox.session(python=PYTHON)
@nox.parametrize("pack", PACKS, ids=[p.rpartition("/")[2] for p in PACKS])
def packs(session: nox.Session, pack: str) -> None:
    """Each first-party pack's own tests, in its own environment with the host and only that
    pack installed, as a user who installs just that pack has it."""
    session.install("-e", ".[test]", "-e", pack)
    session.run("pytest", f"{pack}/tests", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Lint rules and one code layout. The layout changes between ruff's minor versions, so the
    minor version is pinned: a new one is adopted by reformatting in a commit of its own."""
    session.install("ruff>=0.17.6,<0.18")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    install_project(session, "test")
    session.install("mypy>=1.10", "types-PyYAML")
    session.run("mypy")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """The documentation site, built strictly (any warning fails); ``-- serve`` to preview."""
    install_project(session, "docs")
    # Material prints a banner about MkDocs 2.0 on every build; it is not about this site.
    env = {"NO_MKDOCS_2_WARNING": "1"}
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", *session.posargs[1:], env=env)
        return
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "build/site", *session.posargs, env=env
    )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks; writes bench/results.md."""
    install_project(session, "test")
    # serves moto on kept-alive connections for the team setup's benchmark
    session.install("waitress>=3.0")
    session.run("python", "bench/run.py", *session.posargs)
