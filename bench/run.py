"""Benchmarks for flowtime-sim; writes bench/results.md (``nox -s bench``).

Every figure is measured in this run on this machine, next to the baseline it is compared
with (the *import floor*: a Python process that only imports click, pluggy, PyYAML, Jinja2 and
jsonschema). ``--quick`` shrinks the large cases for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
FLOOR_CMD = [sys.executable, "-c", "import click, pluggy, yaml, jinja2, jsonschema"]
Row = tuple[str, str, str, str]  # (what, measured, target, verdict)


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def process_times(
    commands: dict[str, list[str]], repeat: int, env: dict[str, str] | None = None
) -> dict[str, float]:
    """Median wall time of whole processes, run interleaved so drift hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(vals) for name, vals in samples.items()}


def verdict(ok: bool) -> str:
    return "✅" if ok else "❌"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# ---------------------------------------------------------------------------------------------


def bench_cli(work: Path, repeat: int) -> list[Row]:
    cli = str(BIN / "flowtime-sim")
    out = work / "m.yaml"
    times = process_times(
        {
            "floor": FLOOR_CMD,
            "--help": [cli, "--help"],
            "templates": [cli, "templates"],
            "new --out m.yaml": [cli, "new", "--template", "checkout", "--out", str(out)],
        },
        repeat,
    )
    floor = times["floor"]
    rows: list[Row] = [
        ("import floor (click, pluggy, yaml, jinja2, jsonschema)", ms(floor), "baseline", "")
    ]
    for name, limit in (("--help", 1.0), ("templates", 1.0), ("new --out m.yaml", 1.5)):
        ratio = times[name] / floor
        rows.append(
            (
                f"`flowtime-sim {name}` process",
                f"{ms(times[name])} ({ratio:.2f}× floor)",
                f"≤ {limit}× floor",
                verdict(ratio <= limit),
            )
        )
    return rows


def bench_create(work: Path, count: int) -> list[Row]:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.types import ParameterSources

    ft = Flowtime(root=str(work / "create-root"), owner="bench")
    ft.create_model("checkout")  # warm caches: templates, compiled bodies, schema validator
    start = time.perf_counter()
    for i in range(count):
        ft.create_model("checkout", ParameterSources(sets={"arrivals_per_day": 1000 + i}))
    rate = count / (time.perf_counter() - start)
    ft.close()
    return [
        (
            f"durable creation, in process ({count} checkout models, fsync on)",
            f"{rate:.0f} models/s",
            "≥ 300 models/s",
            verdict(rate >= 300),
        )
    ]


def catalog_sizes(work: Path) -> list[Row]:
    from flowtime_sim.core import Flowtime

    ft = Flowtime(root=str(work / "sizes-root"), owner="bench")
    rows: list[Row] = []
    for tpl in ft.templates.latest():
        art = ft.create_model(f"{tpl.plugin}:{tpl.id}").artifact
        folder = work / "sizes-root" / art.key
        cat = (folder / "catalog.json").stat().st_size
        svg = (folder / "preview.svg").stat().st_size
        rows.append(
            (
                f"catalog.json of `{tpl.id}` {tpl.version}",
                f"{cat:,} B",
                "< 2 KB",
                verdict(cat < 2048),
            )
        )
        rows.append(
            (f"preview.svg of `{tpl.id}` {tpl.version}", f"{svg / 1024:.1f} KB", "report", "")
        )
    ft.close()
    return rows


def make_registry_fixture(root: Path, count: int) -> list[str]:
    """``count`` model versions written straight into the layout (catalog + small model.yaml,
    and the catalog's ledger record, as publication writes it): what reindex and listing read,
    without rendering each one."""
    from flowtime_sim.core import Flowtime
    from flowtime_sim.registry import ledger
    from flowtime_sim.registry.catalog import dump_catalog

    marker = root / ".bench-count"
    ft = Flowtime(root=str(root / "seed"), owner="bench")
    samples = [ft.create_model(f"{t.plugin}:{t.id}").artifact for t in ft.templates.latest()]
    ft.close()
    templates = [s.catalog["template_id"] for s in samples]
    if marker.exists() and marker.read_text() == str(count):
        return templates
    shutil.rmtree(root / "models", ignore_errors=True)
    shutil.rmtree(root / ledger.LEDGER, ignore_errors=True)
    rng = random.Random(7)
    base = time.time() - count
    for i in range(count):
        sample = samples[i % len(samples)]
        cat = dict(sample.catalog)
        model_id = f"bench-{i}_{rng.getrandbits(32):08x}"
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + i))
        cat.update(
            id=model_id,
            name=f"bench {i}",
            created_utc=created,
            owner=f"user{i % 17}",
            tags=[*cat["tags"], f"batch-{i % 100}"],
        )
        folder = root / "models" / model_id / "v1"
        folder.mkdir(parents=True)
        catalog = dump_catalog(cat)
        (folder / "catalog.json").write_bytes(catalog)
        (folder / "model.yaml").write_bytes(b"schemaVersion: 1\n")
        record = root / ledger.record_key(f"models/{model_id}/v1")
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_bytes(ledger.entry(catalog))
    marker.write_text(str(count))
    return templates


def bench_listing(work: Path, count: int, repeat: int) -> list[Row]:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.registry import Query

    root = work / "list-root"
    templates = make_registry_fixture(root, count)
    ft = Flowtime(root=str(root), owner="bench")
    registry = ft.registry()
    start = time.perf_counter()
    indexed = registry.reindex()
    reindex_s = time.perf_counter() - start
    template = templates[0]
    query = Query(template=template, limit=50)
    assert len(ft.list(query).items) == 50
    in_process = median_time(lambda: ft.list(query), repeat * 3)
    ft.close()
    cli = str(BIN / "flowtime-sim")
    times = process_times(
        {
            "floor": FLOOR_CMD,
            "list": [
                cli,
                "list",
                "--template",
                template,
                "--limit",
                "50",
                "--root",
                str(root),
                "--json",
            ],
        },
        repeat,
    )
    ratio = times["list"] / times["floor"]
    return [
        (
            f"`reindex` of {indexed:,} artifacts",
            f"{reindex_s:.1f} s",
            "< 60 s",
            verdict(reindex_s < 60),
        ),
        (
            f"`list --template X --limit 50`, {indexed:,} artifacts, in process",
            ms(in_process),
            "< 20 ms",
            verdict(in_process < 0.020),
        ),
        (
            f"`list --template X --limit 50`, {indexed:,} artifacts, CLI process",
            f"{ms(times['list'])} ({ratio:.2f}× floor)",
            "≤ 1.2× floor",
            verdict(ratio <= 1.2),
        ),
    ]


def bench_engine(work: Path, nodes: int, bins: int, ref_bins: int) -> list[Row]:
    from flowtime_sim.engine import evaluate
    from flowtime_sim.engine.reference import evaluate_reference
    from flowtime_sim.engine.synthetic import synthetic_model

    model = synthetic_model(nodes, bins, seed=1)
    evaluate(model)
    eval_s = median_time(lambda: evaluate(model), 3)
    small = synthetic_model(nodes, ref_bins, seed=1)
    fast_small = median_time(lambda: evaluate(small), 3)
    start = time.perf_counter()
    evaluate_reference(small)
    ref_small = time.perf_counter() - start
    script = (
        "import resource, sys, time\n"
        "from flowtime_sim.core import Flowtime\n"
        "from flowtime_sim.engine.synthetic import synthetic_model\n"
        "from flowtime_sim.runs import RunRequest\n"
        f"model = synthetic_model({nodes}, {bins}, seed=1)\n"
        f"ft = Flowtime(root={str(work / 'run-root')!r}, owner='bench')\n"
        "req = RunRequest(model=model, model_hash='sha256:' + '0' * 64, slug='synthetic',"
        " seed=int(time.time()), mode='expected')\n"
        "t = time.perf_counter()\n"
        "created = ft._store_run(req, 'private', None, None, None)\n"
        "elapsed = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(elapsed, rss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout.split()
    run_s, rss_kib = float(out[0]), int(out[1])
    rows_csv = nodes * bins
    return [
        (
            f"evaluate {nodes:,} nodes × {bins:,} bins (expected mode)",
            ms(eval_s),
            "< 500 ms",
            verdict(eval_s < 0.5),
        ),
        (
            f"whole run incl. binned_v0.csv ({rows_csv / 1e6:.2f} M rows) and publication",
            f"{run_s:.2f} s",
            "< 3 s",
            verdict(run_s < 3),
        ),
        (
            "peak memory of that run (process max RSS)",
            f"{rss_kib / 1024:.0f} MiB",
            "< 1 GiB",
            verdict(rss_kib < 1024 * 1024),
        ),
        (
            f"pure-Python per-bin evaluator vs NumPy, {nodes:,} nodes × {ref_bins:,} bins",
            f"{ref_small:.2f} s vs {ms(fast_small)} = {ref_small / fast_small:.0f}× faster",
            "report",
            "",
        ),
    ]


def bench_yaml(work: Path, nodes: int, bins: int) -> list[Row]:
    """Parsing a large model file: the strict path (libyaml and the dialect's constructor), the
    fast path ``run --file`` takes, and a whole ``run --file`` process with its peak memory."""
    import yaml

    from flowtime_sim.engine.synthetic import synthetic_model_source
    from flowtime_sim.yaml_dialect import MODEL_LIMITS, _load_strict, load_yaml

    path = work / f"model-{nodes}x{bins}.yaml"
    if not path.exists():  # one node per line, values in flow style, as the host writes them
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(
            synthetic_model_source(nodes, bins, seed=1),
            Dumper=dumper,
            sort_keys=False,
            default_flow_style=None,
            width=1 << 30,
        )
        path.write_text(text, encoding="utf-8")
    data = path.read_bytes()
    fast = median_time(lambda: load_yaml(data, limits=MODEL_LIMITS, fast=True), 3)
    strict = median_time(lambda: _load_strict(data, MODEL_LIMITS), 1)
    script = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - t, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    cmd = [
        sys.executable,
        "-c",
        script,
        str(BIN / "flowtime-sim"),
        "run",
        "--file",
        str(path),
        "--seed",
        str(int(time.time())),
        "--root",
        str(work / "run-root"),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    run_s, rss_kib = float(out[0]), int(out[1])
    size = f"{len(data) / 2**20:.1f} MiB"
    return [
        (
            f"parse a {nodes:,}-node × {bins:,}-bin model file ({size}), run --file's path",
            f"{fast:.2f} s",
            "≤ 0.8 s (2× FlowTime's engine, 0.41 s)",
            verdict(fast <= 0.8),
        ),
        (
            "the same file on the strict path (libyaml, as without yaml-rs)",
            f"{strict:.2f} s",
            "report",
            "",
        ),
        ("whole `flowtime-sim run --file` process of that file", f"{run_s:.2f} s", "report", ""),
        (
            "peak memory of that process (max RSS)",
            f"{rss_kib / 1024:.0f} MiB",
            "< 2 GiB",
            verdict(rss_kib < 2 * 1024 * 1024),
        ),
    ]


def rust_engine() -> Path | None:
    """FlowTime's Rust engine (``FLOWTIME_ENGINE_BIN``, else ``flowtime-engine`` on the
    ``PATH``), if present: built from FlowTime's repository with ``cargo build --release`` in
    its ``engine/`` folder."""
    named = os.environ.get("FLOWTIME_ENGINE_BIN") or shutil.which("flowtime-engine")
    path = Path(named) if named else None
    return path if path is not None and path.is_file() and os.access(path, os.X_OK) else None


def bench_state(work: Path, nodes: int, bins: int, repeat: int) -> list[Row]:
    """Stateless and stateful models of the same size, against FlowTime's Rust engine when
    it is installed (its ``eval`` process: parse, compile, evaluate, print)."""
    import yaml

    from flowtime_sim.engine import evaluate
    from flowtime_sim.engine.synthetic import stateful_model_source, synthetic_model_source
    from flowtime_sim.model import parse_model

    engine = rust_engine()
    cases = {
        "stateless": (synthetic_model_source(nodes, bins, seed=1), 0.3),
        "stateful": (stateful_model_source(nodes, bins, seed=1), 1.0),
    }
    rows: list[Row] = []
    for name, (source, limit) in cases.items():
        path = work / f"{name}.yaml"
        path.write_text(yaml.safe_dump(source, sort_keys=False, width=2**30))
        model = parse_model(path.read_text())
        assert model.plan is not None
        evaluate(model)
        ours = median_time(lambda m=model: evaluate(m), repeat)  # type: ignore[misc]
        loops = sum(1 for stage in model.plan.stages if stage.sequential)
        what = f"evaluate {name} {nodes:,} nodes × {bins:,} bins" + (
            f" ({len(source['topology']['nodes'])} queues, {loops} bin-by-bin stages)"
            if name == "stateful"
            else ""
        )
        if engine is None:
            rows.append((what, ms(ours), "report (Rust engine not installed)", ""))
            continue
        rust = process_times({"rust": [str(engine), "eval", str(path)]}, max(3, repeat // 3))
        ratio = ours / rust["rust"]
        rows.append(
            (
                f"{what} vs Rust `flowtime-engine eval`",
                f"{ms(ours)} vs {ms(rust['rust'])} = {ratio:.2f}×",
                f"≤ {limit}× Rust",
                verdict(ratio <= limit),
            )
        )
    rows.append(feedback_loop_options(bins))
    return rows


def feedback_loop_options(bins: int) -> Row:
    """One self-referencing backlog computed bin by bin two ways: NumPy on one-element
    slices per bin, and the generated loop on floats the engine uses."""
    import numpy as np

    from flowtime_sim.engine import evaluate
    from flowtime_sim.model import parse_model

    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 10, bins), rng.uniform(0, 10, bins)

    def numpy_per_bin() -> object:
        out = np.zeros(bins)
        for t in range(bins):
            prev = out[t - 1 : t] if t else np.zeros(1)
            out[t : t + 1] = np.maximum(0.0, prev * 0.8 + a[t : t + 1] - b[t : t + 1])
        return out

    model = parse_model(
        {
            "schemaVersion": 1,
            "grid": {"bins": bins, "binSize": 1, "binUnit": "hours"},
            "nodes": [
                {"id": "a", "kind": "const", "values": a.tolist()},
                {"id": "b", "kind": "const", "values": b.tolist()},
                {"id": "x", "kind": "expr", "expr": "MAX(0, SHIFT(x, 1) * 0.8 + a - b)"},
            ],
        }
    )
    generated = median_time(lambda: evaluate(model), 5)
    sliced = median_time(numpy_per_bin, 3)
    return (
        f"one feedback node × {bins:,} bins: generated loop (whole model) vs NumPy per bin",
        f"{ms(generated)} vs {ms(sliced)}",
        "report",
        "",
    )


def bench_template_run(work: Path, repeat: int) -> list[Row]:
    cli = str(BIN / "flowtime-sim")
    root = str(work / "e2e-root")
    made = subprocess.run(
        [cli, "new", "--template", "checkout", "--root", root, "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    model_id = json.loads(made.stdout)["model_id"]
    seeds = iter(range(10**6))
    samples: dict[str, list[float]] = {"floor": [], "run": []}
    for _ in range(repeat):
        for name in samples:
            cmd = (
                FLOOR_CMD
                if name == "floor"
                else [cli, "run", "--model", model_id, "--seed", str(next(seeds)), "--root", root]
            )
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            samples[name].append(time.perf_counter() - start)
    floor, run = (statistics.median(samples[k]) for k in ("floor", "run"))
    return [
        (
            "`flowtime-sim run --model` (checkout, new seed each time), CLI process",
            f"{ms(run)} ({run / floor:.2f}× floor)",
            "≤ 2× floor",
            verdict(run / floor <= 2),
        )
    ]


def bench_sweep(work: Path, count: int) -> list[Row]:
    """A ``count``-scenario checkout sweep with ``--jobs 2`` against the same scenarios made
    by ``new`` + ``run`` CLI calls in a shell loop."""
    cli = str(BIN / "flowtime-sim")
    first = 1000
    values = f"arrivals_per_day={first}..{first + count - 1}"
    start = time.perf_counter()
    subprocess.run(
        [
            cli,
            "sweep",
            "-t",
            "checkout",
            "--grid",
            values,
            "--jobs",
            "2",
            "--root",
            str(work / "sweep-root"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    sweep_s = time.perf_counter() - start
    loop = (
        f"for v in $(seq {first} {first + count - 1}); do\n"
        f'  id=$("{cli}" new -t checkout --set arrivals_per_day=$v --root "$1" --json '
        '| grep -o \'"model_id": "[^"]*"\' | cut -d\'"\' -f4)\n'
        f'  "{cli}" run --model "$id" --root "$1" > /dev/null\n'
        "done\n"
    )
    start = time.perf_counter()
    subprocess.run(
        ["bash", "-c", loop, "loop", str(work / "loop-root")], check=True, stdout=subprocess.DEVNULL
    )
    loop_s = time.perf_counter() - start
    runs = len(list((work / "loop-root" / "runs").iterdir()))
    assert runs == count, f"the loop made {runs} runs, not {count}"
    ratio = loop_s / sweep_s
    return [
        (
            f"`sweep` of {count} checkout scenarios, `--jobs 2`, CLI process",
            f"{sweep_s:.1f} s ({count / sweep_s:.1f} scenarios/s)",
            "report",
            "",
        ),
        (
            f"the same {count} scenarios as `new` + `run` calls in a shell loop",
            f"{loop_s:.1f} s ({count / loop_s:.1f} scenarios/s)",
            "baseline",
            "",
        ),
        ("sweep speed-up over the loop", f"{ratio:.1f}×", "≥ 10×", verdict(ratio >= 10)),
    ]


def bench_compare(work: Path, repeat: int, bins: int) -> list[Row]:
    """``compare`` of 10 runs × 20 series: the JSON document, and one SVG chart per series."""
    import yaml

    from flowtime_sim.core import Flowtime
    from flowtime_sim.engine.synthetic import synthetic_model_source
    from flowtime_sim.scenarios.charts import comparison_charts
    from flowtime_sim.scenarios.compare import compare, load_from_registry

    root = work / "compare-root"
    ft = Flowtime(root=str(root), owner="bench")
    runs = [
        ft.run_text(
            yaml.safe_dump(synthetic_model_source(20, bins, seed=i)), name=f"bench-{i}"
        ).artifact.id
        for i in range(10)
    ]
    registry = ft.registry()

    def as_json() -> str:
        comparison = compare(load_from_registry(registry, runs)[0])
        return json.dumps(comparison.as_json())

    def as_svg() -> int:
        comparison = compare(load_from_registry(registry, runs)[0])
        return sum(len(svg) for _, svg in comparison_charts(comparison))

    as_json()
    json_s = median_time(as_json, repeat)
    svg_s = median_time(as_svg, repeat)
    ft.close()
    cli = str(BIN / "flowtime-sim")
    times = process_times(
        {
            "floor": FLOOR_CMD,
            "json": [cli, "compare", *runs, "--root", str(root), "--json"],
            "svg": [cli, "compare", *runs, "--root", str(root), "--plot", str(work / "c.svg")],
        },
        max(3, repeat // 3),
    )
    return [
        (
            f"`compare` of 10 runs × 20 series ({bins:,} bins), JSON, in process",
            ms(json_s),
            "< 200 ms",
            verdict(json_s < 0.2),
        ),
        (
            f"`compare` of 10 runs × 20 series ({bins:,} bins), 20 SVG charts, in process",
            ms(svg_s),
            "< 1 s",
            verdict(svg_s < 1),
        ),
        (
            "the same, CLI processes (`--json`; `--plot c.svg`)",
            f"{ms(times['json'])}; {ms(times['svg'])} (floor {ms(times['floor'])})",
            "report",
            "",
        ),
    ]


def bench_preview(repeat: int) -> list[Row]:
    from flowtime_sim.engine.synthetic import synthetic_model
    from flowtime_sim.preview import render_svg

    model = synthetic_model(200, 24, seed=3)
    render_svg(model)
    t = median_time(lambda: render_svg(model), repeat)
    size = len(render_svg(model).encode())
    return [
        (
            f"render preview.svg of a 200-node model ({size / 1024:.0f} KB)",
            ms(t),
            "< 100 ms",
            verdict(t < 0.1),
        )
    ]


def bench_pack_kit(work: Path, repeat: int) -> list[Row]:
    """A freshly scaffolded pack: its own ``pytest`` and ``flowtime-sim pack check``, as wall
    time and as CPU time (user + system), which a busy shared machine disturbs less."""
    import resource

    from flowtime_sim.scaffold import create_pack

    project = work / "packkit-project"
    shutil.rmtree(project, ignore_errors=True)
    create_pack("bench-shop", project)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWTIME_", "PYTEST_"))}
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project)]
    commands = {
        "pytest": pytest,
        # what a pack's own environment loads: this one also has the host's test plugins
        "pytest alone": [
            "env",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1",
            *pytest,
            "-p",
            "flowtime_sim.testing.plugin",
        ],
        "pack check": [str(BIN / "flowtime-sim"), "pack", "check", "--dir", str(project)],
    }
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(max(3, repeat // 3)):
        for name, cmd in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
            wall[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    rows: list[Row] = []
    for name, what, limit in (
        ("pytest", "`pytest` (4 tests, 15 parameter sets)", 3.0),
        ("pytest alone", "`pytest`, only flowtime-sim's pytest plugin loaded", 3.0),
        ("pack check", "`flowtime-sim pack check`", 2.0),
    ):
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        rows.append(
            (
                f"scaffolded pack: {what}, process",
                f"{w:.2f} s wall, {c:.2f} s CPU",
                f"≤ {limit:g} s",
                verdict(w <= limit),
            )
        )
    return rows


def extra_benches(teams: bool) -> list[str]:
    """The service (wrk) and, with ``--s3``/``--pg``, the team setup's (S3 on moto_server and
    PostgreSQL on loopback, ~15 min) benchmarks print their own markdown tables."""
    out = []
    scripts = [HERE / "service_bench.py"]
    if teams:
        scripts.append(HERE / "teams_bench.py")
    for script in scripts:
        args = [sys.executable, str(script)]
        result = subprocess.run(args, capture_output=True, stdin=subprocess.DEVNULL, text=True)
        body = (
            result.stdout.strip()
            if result.returncode == 0
            else (f"failed (exit {result.returncode}):\n```\n{result.stderr.strip()[-2000:]}\n```")
        )
        out.append(f"### {script.name}\n\n{body}\n")
    return out


def compile_bytecode() -> None:
    """Write the project's ``.pyc`` files, as ``pip install`` does for an installed package:
    the editable checkout being measured would otherwise be recompiled in every process
    wherever ``PYTHONDONTWRITEBYTECODE`` is set, which no installed user pays."""
    import compileall

    root = HERE.parent
    for folder in [
        root / "flowtime_sim",
        *root.glob("template_packs/*/src"),
        *root.glob("plugins/*/src"),
    ]:
        compileall.compile_dir(folder, quiet=1)


def table(rows: Sequence[Row]) -> str:
    lines = ["| what | measured | target | |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="sections: cli create sizes listing engine state yaml e2e preview "
        "sweep compare packkit extra",
    )
    parser.add_argument(
        "--s3",
        action="store_true",
        help="also the team benchmark: S3 (moto_server) with PostgreSQL (slow)",
    )
    parser.add_argument("--pg", action="store_true", help="the same as --s3")
    parser.add_argument("--out", default=str(HERE / "results.md"))
    args = parser.parse_args()
    quick = args.quick
    repeat = 5 if quick else 15
    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    sections: dict[str, Callable[[], Any]] = {
        "cli": lambda: bench_cli(work, repeat),
        "create": lambda: bench_create(work, 60 if quick else 300),
        "sizes": lambda: catalog_sizes(work),
        "listing": lambda: bench_listing(work, 2_000 if quick else 100_000, repeat),
        "engine": lambda: bench_engine(work, 1000, 876 if quick else 8760, 96 if quick else 876),
        "state": lambda: bench_state(work, 1000, 876 if quick else 8760, 3 if quick else 7),
        "yaml": lambda: bench_yaml(work, 1000, 876 if quick else 8760),
        "e2e": lambda: bench_template_run(work, repeat),
        "preview": lambda: bench_preview(repeat),
        "sweep": lambda: bench_sweep(work, 20 if quick else 100),
        "compare": lambda: bench_compare(work, repeat, 96 if quick else 1000),
        "packkit": lambda: bench_pack_kit(work, repeat),
    }
    chosen = args.only or [*sections, "extra"]
    compile_bytecode()
    rows: list[Row] = []
    for name in chosen:
        if name in sections:
            for sub in (
                "create-root",
                "sizes-root",
                "run-root",
                "e2e-root",
                "sweep-root",
                "loop-root",
                "compare-root",
            ):
                shutil.rmtree(work / sub, ignore_errors=True)
            print(f"running {name} ...", file=sys.stderr, flush=True)
            rows += sections[name]()
    extras = extra_benches(args.s3 or args.pg) if "extra" in chosen else []
    header = (
        f"# Benchmark results\n\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s)"
        f"{', quick sizes' if quick else ''}; the project's bytecode compiled first, "
        "as an installed package has it.\n\n"
    )
    text = header + table(rows) + "\n\n" + "\n".join(extras)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
