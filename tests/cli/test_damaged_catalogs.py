"""One damaged catalog.json costs only its artifact: every command that needs it names the
file in one line (exit 1), listings skip it with a warning, and delete removes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def sim(cli):
    """``cli`` that checks the exit code (0 unless ``code=``)."""

    def run(*args: str, code: int = 0):
        result = cli(*args)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    return run


DAMAGE = {
    "not JSON": (b"{not json", "is not valid JSON"),
    "a list": (b"[1, 2]", "is not a JSON object"),
    "fields gone": (b'{"kind": "model"}', "is missing a valid 'id'"),
    "a run's": (b'{"kind": "run"}', "is not a model catalog (kind 'run')"),
    "another model's": (None, "is the catalog of another artifact"),
    "deleted": (b"", "is missing"),
}


@pytest.fixture
def damaged(sim, artifacts_root: Path, request: pytest.FixtureRequest):
    good = json.loads(sim("new", "--template", "checkout", "--json").stdout)["model_id"]
    bad = json.loads(sim("new", "--template", "checkout", "--name", "bad", "--json").stdout)[
        "model_id"
    ]
    sim("run", "--model", bad)
    data, why = DAMAGE[request.param]
    catalog = artifacts_root / "models" / bad / "v1" / "catalog.json"
    if data is None:
        catalog.write_bytes((artifacts_root / "models" / good / "v1" / "catalog.json").read_bytes())
    elif not data:
        catalog.unlink()
    else:
        catalog.write_bytes(data)
    return good, bad, why


def _one_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("damaged", sorted(DAMAGE), indirect=True)
@pytest.mark.parametrize(
    "args",
    [
        ["show", "{bad}"],
        ["show", "{bad}@v1"],
        ["versions", "{bad}"],
        ["run", "--model", "{bad}"],
        ["new", "--template", "checkout", "--name", "bad"],
        ["derive", "--from", "{bad}"],
    ],
)
def test_commands_that_need_it_name_the_file(sim, damaged, args: list[str]) -> None:
    good, bad, why = damaged
    result = sim(*[a.format(bad=bad) for a in args], code=1)
    assert _one_line(result) == (
        f"error: models/{bad}/v1/catalog.json {why}; run 'flowtime-sim verify', then restore "
        f"the folder from a backup or delete it with 'flowtime-sim delete {bad}@v1 --force'"
    )
    assert json.loads(sim("show", good, "--json").stdout)["id"] == good


@pytest.mark.parametrize("damaged", ["not JSON"], indirect=True)
def test_list_skips_it_with_a_warning_and_delete_removes_it(sim, damaged) -> None:
    good, bad, why = damaged
    listed = sim("list", "--kind", "model", "--json")
    assert [a["id"] for a in json.loads(listed.stdout)["artifacts"]] == [good]
    assert _one_line(listed) == (
        f"warning: skipped models/{bad}/v1: its catalog.json {why} (see 'flowtime-sim verify')"
    )
    refused = sim("delete", bad, code=1)
    assert "is referenced by 1 run(s)" in _one_line(refused)
    assert json.loads(sim("delete", bad, "--force", "--json").stdout) == {
        "deleted": [f"models/{bad}/v1"]
    }
    listed = sim("list", "--kind", "model", "--json")
    assert [a["id"] for a in json.loads(listed.stdout)["artifacts"]] == [good]
    assert listed.stderr == ""


@pytest.mark.parametrize("damaged", ["not JSON"], indirect=True)
def test_reindex_leaves_it_out_and_exits_3(sim, damaged, artifacts_root: Path) -> None:
    _, bad, why = damaged
    result = sim("reindex", code=3)
    assert result.stdout == f"indexed 2 artifact(s) from {artifacts_root}\n"
    assert result.stderr.splitlines() == [
        f"error: not indexed: models/{bad}/v1/catalog.json: {why.removeprefix('is ')}",
        "error: 1 artifact(s) left out of the listing; restore them from a backup or delete "
        "them (see 'flowtime-sim verify')",
    ]
    assert json.loads(sim("reindex", "--json", code=3).stdout)["refused"] == [
        f"models/{bad}/v1/catalog.json: {why.removeprefix('is ')}"
    ]
