"""The artifact commands end to end through click, with the bundled checkout pack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowtime_sim.cli import flowtime, main


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FLOWTIME_ARTIFACTS_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("FLOWTIME_OWNER", "ada")
    runner = CliRunner()

    def invoke(*args: str, code: int = 0, group=main):
        result = runner.invoke(group, list(args), catch_exceptions=False)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    return invoke


def _json(result) -> dict:
    return json.loads(result.stdout)


def test_new_list_show_versions_run(cli, tmp_path: Path) -> None:
    made = _json(cli("new", "--template", "checkout", "--name", "checkout-baseline", "--json"))
    assert made["status"] == "created" and made["version"] == 1
    model_id = made["model_id"]
    assert model_id.startswith("checkout-baseline_")
    folder = tmp_path / "root" / "models" / model_id / "v1"
    assert made["path"] == str(folder)
    assert {p.name for p in folder.iterdir()} == {"catalog.json", "model.yaml", "preview.svg"}

    again = cli("new", "--template", "checkout", "--name", "checkout-baseline")
    assert again.stdout.startswith(f"unchanged model {model_id}@v1")

    # another template version with the defaults is the next version of the same model
    older = _json(
        cli(
            "new",
            "--template",
            "checkout",
            "--name",
            "checkout-baseline",
            "--version",
            "1.0.0",
            "--json",
        )
    )
    assert (older["model_id"], older["version"]) == (model_id, 2)
    assert _json(cli("show", f"{model_id}@v2", "--json"))["template_version"] == "1.0.0"
    other = _json(
        cli(
            "new",
            "--template",
            "checkout",
            "--name",
            "checkout-baseline",
            "--set",
            "peak_factor=3",
            "--json",
        )
    )
    assert other["model_id"] != model_id and other["version"] == 1
    older = other

    listing = _json(cli("list", "--json"))
    assert {a["id"] for a in listing["artifacts"]} == {model_id, older["model_id"]}
    assert listing["total"] == 2 and listing["next_cursor"] is None
    first = _json(cli("list", "--limit", "1", "--json"))
    second = _json(cli("list", "--limit", "1", "--cursor", first["next_cursor"], "--json"))
    assert {first["artifacts"][0]["id"], second["artifacts"][0]["id"]} == {
        model_id,
        older["model_id"],
    }
    assert second["next_cursor"] is None
    assert _json(cli("list", "--template", "nope", "--json"))["total"] == 0
    assert "No artifacts match." in cli("list", "--tag", "nope").stdout

    versions = _json(cli("versions", model_id, "--json"))
    assert [(v["version"], v["template_version"]) for v in versions] == [(1, "1.2.0"), (2, "1.0.0")]
    shown = _json(cli("show", f"{model_id}@v1", "--json"))
    assert shown["owner"] == "ada" and shown["runs"] == []

    run = _json(cli("run", "--model", f"{model_id}@v1", "--seed", "42", "--json"))
    assert run["run_id"].startswith("checkout-baseline-run_")
    assert (tmp_path / "root" / "runs" / run["run_id"] / "binned_v0.csv").is_file()
    assert _json(cli("show", model_id + "@v1", "--json"))["runs"] == [run["run_id"]]
    same = _json(cli("run", "--model", f"{model_id}@v1", "--seed", "42", "--json", group=flowtime))
    assert same["status"] == "unchanged" and same["run_id"] == run["run_id"]
    assert _json(cli("show", run["run_id"], "--json"))["kind"] == "run"
    assert [a["id"] for a in _json(cli("list", "--kind", "run", "--json"))["artifacts"]] == [
        run["run_id"]
    ]


def test_derive_and_sim_spelling(cli) -> None:
    base = _json(cli("sim", "new", "--template", "checkout", "--json", group=flowtime))
    derived = _json(
        cli(
            "derive",
            "--from",
            base["model_id"],
            "--name",
            "peak-2x",
            "--set",
            "peak_factor=2",
            "--json",
        )
    )
    shown = _json(cli("show", derived["model_id"], "--json"))
    assert shown["derived_from"] == f"{base['model_id']}@v1"
    assert shown["parameters"]["peak_factor"] == 2


def test_verify_exit_code_names_the_bad_file(cli, tmp_path: Path) -> None:
    model_id = _json(cli("new", "--template", "checkout", "--json"))["model_id"]
    assert "checked 1 artifact folder(s)" in cli("verify").stdout
    target = tmp_path / "root" / "models" / model_id / "v1" / "preview.svg"
    target.write_bytes(target.read_bytes().replace(b"<svg", b"<svG", 1))
    result = cli("verify", code=3)
    assert f"models/{model_id}/v1/preview.svg: hash sha256:" in result.stderr
    assert result.stderr.strip().endswith("error: 1 file(s) do not match what was published")
    report = _json(cli("verify", "--json", code=3))
    assert len(report["problems"]) == 1


def test_verify_names_missing_files_and_unreadable_catalogs(cli, tmp_path: Path) -> None:
    first = _json(cli("new", "--template", "checkout", "--json"))["model_id"]
    second = _json(cli("new", "--template", "checkout", "--name", "other", "--json"))["model_id"]
    models = tmp_path / "root" / "models"
    (models / first / "v1" / "model.yaml").unlink()
    (models / second / "v1" / "catalog.json").write_text("{not json")
    result = cli("verify", code=3)
    assert f"models/{first}/v1/model.yaml: missing" in result.stderr
    assert f"models/{second}/v1/catalog.json: unreadable (not valid JSON)" in result.stderr
    assert result.stderr.strip().endswith("error: 2 file(s) do not match what was published")


def test_model_ids_are_fixed_forever(cli) -> None:
    # The README's example id: the same template and parameters give it on every machine.
    made = _json(cli("new", "--template", "checkout", "--name", "checkout-baseline", "--json"))
    assert made["model_id"] == "checkout-baseline_1c15d257"
    # the inputs hash names the template version, so it follows the newest checkout (1.2.0)
    assert made["inputs_hash"] == (
        "sha256:43462cf240d8562dba0b3b06c0ecca1d48b00a4173f26abff5f0c976056b6949"
    )


def test_reindex_gc_delete(cli) -> None:
    model_id = _json(cli("new", "--template", "checkout", "--json"))["model_id"]
    assert _json(cli("reindex", "--json")) == {"indexed": 1, "refused": []}
    assert _json(cli("gc", "--json")) == {"removed": []}
    assert _json(cli("delete", model_id, "--json")) == {"deleted": [f"models/{model_id}/v1"]}
    assert _json(cli("list", "--json"))["total"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "../etc"), "error: invalid artifact id '../etc': ids are lower-case letters"),
        (("show", "nope_00000000"), "error: no model 'nope_00000000' in "),
        (("new", "--template", "nope"), "error: unknown template 'nope'; available: checkout, "),
        (
            ("new", "--template", "checkout", "--set", "peak_factor=-2"),
            "error: parameter 'peak_factor' = -2 is below the minimum 0 (template checkout 1.2.0)",
        ),
        (
            ("new", "--template", "checkout", "--set", "nonsense"),
            "error: --set expects key=value, got 'nonsense'",
        ),
        (("run",), "error: give exactly one of --model ID and --file model.yaml"),
        (("run", "--file", "missing.yaml"), "error: model file 'missing.yaml' does not exist"),
        (("list", "--cursor", "zzz"), "error: invalid cursor 'zzz'"),
        (("derive", "--from", "a/b"), "error: invalid model id 'a/b'"),
    ],
)
def test_user_errors_are_one_line_exit_1(cli, args: tuple[str, ...], message: str) -> None:
    result = cli(*args, code=1)
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


HOSTILE_IDS = ["../x", "%2e%2e", "/etc/passwd", "a\\b", "A_1", "a/../../b", "x" * 200]


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
@pytest.mark.parametrize(
    ("command", "what"),
    [
        (("show",), "artifact"),
        (("versions",), "model"),
        (("delete",), "artifact"),
        (("preview",), "model"),
        (("run", "--model"), "model"),
        (("derive", "--name", "x", "--from"), "model"),
    ],
)
def test_every_command_refuses_a_hostile_id_before_touching_storage(
    cli, tmp_path: Path, hostile: str, command: tuple[str, ...], what: str
) -> None:
    model_id = _json(cli("new", "--template", "checkout", "--json"))["model_id"]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = cli(*command, hostile, code=1)
    assert result.stderr.startswith(f"error: invalid {what} id {hostile[:40]!r}"[:-1])
    assert ": ids are lower-case letters, digits" in result.stderr
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 400
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert _json(cli("show", model_id, "--json"))["id"] == model_id


def test_list_by_owner_and_visibility(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = _json(cli("new", "--template", "checkout", "--visibility", "team", "--json"))
    monkeypatch.setenv("FLOWTIME_OWNER", "grace")
    theirs = _json(cli("new", "--template", "storefront", "--visibility", "public", "--json"))
    assert _json(cli("show", mine["model_id"], "--json"))["visibility"] == "team"
    by_ada = _json(cli("list", "--owner", "ada", "--json"))["artifacts"]
    assert [a["id"] for a in by_ada] == [mine["model_id"]]
    by_grace = _json(cli("list", "--owner", "grace", "--json"))["artifacts"]
    assert [(a["id"], a["visibility"]) for a in by_grace] == [(theirs["model_id"], "public")]
    table = cli("list", "--owner", "grace").stdout.splitlines()
    assert table[0].split("\t")[:2] == ["id", "kind"]
    assert table[1].split("\t")[:2] == [theirs["model_id"], "model"]
    refused = cli("new", "--template", "checkout", "--visibility", "secret", code=2)
    assert "'secret' is not one of 'private', 'team', 'public'" in refused.stderr


def test_derive_from_a_template_version_no_longer_installed(cli, tmp_path: Path) -> None:
    model_id = _json(cli("new", "--template", "checkout", "--json"))["model_id"]
    catalog = tmp_path / "root" / "models" / model_id / "v1" / "catalog.json"
    data = json.loads(catalog.read_text())
    data["template_version"] = "0.9.0"
    catalog.write_text(json.dumps(data))
    result = cli("derive", "--from", model_id, "--name", "again", code=1)
    assert result.stderr == (
        f"error: template checkout:checkout 0.9.0, which {model_id} was made from, is not "
        "installed (installed versions: 1.2.0, 1.1.0, 1.0.0); install the pack that provides it\n"
    )


def test_usage_errors_exit_2(cli) -> None:
    assert "No such option" in cli("list", "--bogus", code=2).stderr


def test_run_file_and_preview(cli, tmp_path: Path) -> None:
    model = tmp_path / "hello.yaml"
    model.write_text(
        "schemaVersion: 1\ngrid: {bins: 3, binSize: 1, binUnit: hours}\n"
        "nodes:\n  - {id: demand, kind: const, values: [1, 2, 3]}\n"
        '  - {id: served, kind: expr, expr: "demand * 2"}\n'
    )
    run = _json(cli("run", "--file", str(model), "--json"))
    assert run["run_id"].startswith("hello-run_") and run["model_id"] is None
    csv = (tmp_path / "root" / "runs" / run["run_id"] / "binned_v0.csv").read_text()
    assert csv.splitlines()[-1] == "2,,served,6"
    svg = cli("preview", "--file", str(model)).stdout
    assert svg.startswith("<svg") and 'data-node-id="served"' in svg
    out = tmp_path / "p.svg"
    assert "wrote" in cli("preview", "--file", str(model), "--out", str(out)).stdout
    assert out.read_text() == svg
