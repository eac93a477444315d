"""Model parsing and validation (SPEC §5): valid models, every refusal, and the details."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from flowtime_sim.errors import ModelError
from flowtime_sim.model import (
    ConstNode,
    ExprNode,
    Grid,
    Model,
    Num,
    Output,
    PmfNode,
    Ref,
    Rng,
    load_model_file,
    parse_model,
)
from flowtime_sim.model.types import BinOp, Call

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"

GRID = "grid: {bins: 3, binSize: 1, binUnit: hours}"
NODES = """nodes:
  - {id: demand, kind: const, values: [1, 2, 3]}
  - {id: served, kind: expr, expr: "MIN(demand, 2)"}"""


def doc(
    *, top: str = "schemaVersion: 1", grid: str = GRID, nodes: str = NODES, extra: str = ""
) -> str:
    """A model's YAML, valid unless one of its parts is replaced by a broken one."""
    return "\n".join(part for part in (top, grid, nodes, extra) if part) + "\n"


def nodes(*items: str) -> str:
    return "nodes:\n" + "\n".join(f"  - {item}" for item in items)


# --- valid models -----------------------------------------------------------------------------


def conformance_models() -> list[Path]:
    return sorted(CONFORMANCE.glob("*.model.yaml")) if CONFORMANCE.is_dir() else []


@pytest.mark.parametrize("path", conformance_models(), ids=lambda p: p.name)
def test_every_conformance_model_parses(path: Path) -> None:
    model = load_model_file(path)
    assert model.plan is not None
    assert sorted(model.order) == sorted(n.id for n in model.nodes)
    assert {o.series for o in model.outputs} <= set(model.plan.series)
    position = {node_id: index for index, node_id in enumerate(model.order)}
    for node_id, deps in model.dependencies.items():
        assert all(position[dep] < position[node_id] for dep in deps)


def test_the_conformance_folder_holds_models() -> None:
    assert CONFORMANCE.is_dir(), f"no conformance folder at {CONFORMANCE}"
    assert len(conformance_models()) >= 4


def test_a_full_model_becomes_typed_objects() -> None:
    model = parse_model(
        """
schemaVersion: 1
grid: {bins: 3, binSize: 15, binUnit: Minutes, start: 2025-01-01T00:00:00Z}
rng: {kind: PCG32, seed: 42}
nodes:
  - {id: served, kind: expr, expr: "MIN(demand, 20) * size"}
  - {id: demand, kind: const, values: [10, 15.5, -2]}
  - {id: size, kind: pmf, pmf: {values: [1, 2, 3], probabilities: [0.2, 0.5, 0.3]}}
outputs:
  - {series: served, as: served.csv}
  - {series: demand}
"""
    )
    assert model.plan is not None
    assert replace(model, plan=None) == Model(
        grid=Grid(3, 15, "minutes", datetime(2025, 1, 1, tzinfo=UTC)),
        nodes=(
            ExprNode(
                "served",
                "MIN(demand, 20) * size",
                BinOp("*", Call("MIN", (Ref("demand", 4), Num(20.0, 12)), 0), Ref("size", 18), 16),
            ),
            ConstNode("demand", (10.0, 15.5, -2.0)),
            PmfNode("size", (1.0, 2.0, 3.0), (0.2, 0.5, 0.3)),
        ),
        outputs=(Output("served", "served.csv"), Output("demand")),
        rng=Rng("pcg32", 42),
        dependencies={"served": ("demand", "size"), "demand": (), "size": ()},
        order=("demand", "size", "served"),
        warnings=(),
    )
    assert model.grid.bin_minutes == 15
    assert model.edges == (("demand", "served"), ("size", "served"))


def test_values_are_floats_even_when_written_as_integers() -> None:
    node = parse_model(doc()).node("demand")
    assert isinstance(node, ConstNode)
    assert all(type(v) is float for v in node.values)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e300", 1e300), ("-2.5E-3", -0.0025), ("+1e3", 1000.0), ("7e0", 7.0), ("1.5e2", 150.0)],
)
def test_exponent_numbers_are_numbers_as_in_yaml_1_2(text: str, value: float) -> None:
    model = parse_model(doc(nodes=f"nodes:\n  - {{id: d, kind: const, values: [1, {text}, 2]}}"))
    node = model.node("d")
    assert isinstance(node, ConstNode) and node.values == (1.0, value, 2.0)


def test_without_outputs_every_node_is_an_output_in_file_order() -> None:
    expected = (Output("demand"), Output("served"))
    assert parse_model(doc()).outputs == expected
    assert parse_model(doc(extra="outputs: []")).outputs == expected
    assert parse_model(doc(extra="outputs:")).outputs == expected


def test_order_is_topological_with_ties_broken_by_file_order() -> None:
    model = parse_model(
        doc(
            nodes=nodes(
                '{id: w, kind: expr, expr: "x + z"}',
                "{id: y, kind: const, values: [1, 2, 3]}",
                "{id: x, kind: const, values: [1, 2, 3]}",
                '{id: z, kind: expr, expr: "y * y - SHIFT(y, 1)"}',
                '{id: v, kind: expr, expr: "x"}',
            )
        )
    )
    assert model.order == ("y", "x", "z", "w", "v")
    assert model.dependencies == {"w": ("x", "z"), "y": (), "x": (), "z": ("y",), "v": ("x",)}


def test_a_long_chain_of_nodes_is_ordered_without_recursion() -> None:
    count = 5_000
    items = ["{id: n0, kind: const, values: [1, 2, 3]}"]
    items += [f'{{id: n{i}, kind: expr, expr: "n{i - 1} + 1"}}' for i in range(count - 1, 0, -1)]
    model = parse_model(doc(nodes=nodes(*items)))
    assert model.order == tuple(f"n{i}" for i in range(count))


def test_a_thousand_node_model_parses() -> None:
    items = []
    for i in range(1000):
        if i % 3 == 0:
            items.append(f"{{id: n{i}, kind: const, values: [{', '.join(['1.5'] * 24)}]}}")
        elif i % 3 == 1:
            items.append(f"{{id: n{i}, kind: pmf, pmf: {{values: [1, 2], probabilities: [1, 3]}}}}")
        else:
            items.append(f'{{id: n{i}, kind: expr, expr: "MIN(n{i - 2}, 2) * SHIFT(n{i - 1}, 1)"}}')
    text = doc(grid="grid: {bins: 24, binSize: 1, binUnit: hours}", nodes=nodes(*items))
    model = parse_model(text)  # its speed is measured by the bench session, not here
    assert len(model.nodes) == 1000
    assert len(model.warnings) == 333


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2025-01-01T00:00:00Z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T02:30:00+02:00", datetime(2025, 1, 1, 0, 30, tzinfo=UTC)),
        ("'2025-01-01T02:30:00+02:00'", datetime(2025, 1, 1, 0, 30, tzinfo=UTC)),
        ("2025-01-01 06:00:00", datetime(2025, 1, 1, 6, tzinfo=UTC)),
        ("2025-06-01", datetime(2025, 6, 1, tzinfo=UTC)),
        ("'2025-06-01'", datetime(2025, 6, 1, tzinfo=UTC)),
        ("null", None),
    ],
)
def test_grid_start_becomes_utc(start: str, expected: datetime | None) -> None:
    grid = f"grid: {{bins: 3, binSize: 1, binUnit: hours, start: {start}}}"
    assert parse_model(doc(grid=grid)).grid.start == expected


def test_bin_unit_is_case_insensitive_and_normalised() -> None:
    for unit in ("WEEKS", "Days", "hours"):
        grid = f"grid: {{bins: 3, binSize: 2, binUnit: {unit}}}"
        assert parse_model(doc(grid=grid)).grid.bin_unit == unit.lower()


def test_rng_kind_defaults_to_pcg32_and_seed_takes_64_bits() -> None:
    assert parse_model(doc(extra="rng: {seed: -7}")).rng == Rng("pcg32", -7)
    big = 2**64 - 1
    assert parse_model(doc(extra=f"rng: {{seed: {big}}}")).rng == Rng("pcg32", big)
    assert parse_model(doc()).rng is None


def test_pmf_probabilities_off_by_more_than_a_millionth_are_renormalised_with_a_warning() -> None:
    model = parse_model(
        doc(
            nodes=nodes(
                "{id: odd, kind: pmf, pmf: {values: [10, 20], probabilities: [1, 3]}}",
                "{id: close, kind: pmf, pmf: {values: [1, 2], probabilities: [0.5, 0.5000009]}}",
                "{id: half, kind: pmf, pmf: {values: [1, 2], probabilities: [0.25, 0.25]}}",
            )
        )
    )
    assert model.warnings == (
        "node 'odd': pmf probabilities sum to 4, not 1; they were rescaled to sum to 1",
        "node 'half': pmf probabilities sum to 0.5, not 1; they were rescaled to sum to 1",
    )
    odd, close, half = model.nodes
    assert isinstance(odd, PmfNode)
    assert isinstance(close, PmfNode)
    assert isinstance(half, PmfNode)
    assert odd.probabilities == (0.25, 0.75)
    assert odd.expected_value == 17.5
    assert close.probabilities == (0.5, 0.5000009)  # within tolerance: left as written
    assert half.probabilities == (0.5, 0.5)


def test_source_may_be_bytes_or_an_already_loaded_mapping() -> None:
    expected = parse_model(doc())
    assert parse_model(doc().encode()) == expected
    assert parse_model(b"\xef\xbb\xbf" + doc().encode()) == expected  # a UTF-8 byte order mark
    mapping = {
        "schemaVersion": 1,
        "grid": {"bins": 3, "binSize": 1, "binUnit": "hours"},
        "nodes": [
            {"id": "demand", "kind": "const", "values": (1, 2, 3)},
            {"id": "served", "kind": "expr", "expr": "MIN(demand, 2)"},
        ],
    }
    assert parse_model(mapping) == expected


def test_a_mapping_may_carry_dates_and_datetimes() -> None:
    mapping = {
        "schemaVersion": 1,
        "grid": {"bins": 1, "binSize": 1, "binUnit": "days", "start": date(2025, 3, 1)},
        "nodes": [{"id": "a", "kind": "const", "values": [1]}],
    }
    assert parse_model(mapping).grid.start == datetime(2025, 3, 1, tzinfo=UTC)


def test_load_model_file_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(doc(), encoding="utf-8")
    assert load_model_file(path) == parse_model(doc())


def test_load_model_file_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ModelError) as caught:
        load_model_file(missing)
    assert str(caught.value) == f"cannot read model file '{missing}': No such file or directory"


def test_load_model_file_names_the_file_in_document_errors(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        load_model_file(path)
    assert str(caught.value) == (
        f"{path} must be a mapping with schemaVersion, grid and nodes, got a list"
    )


def test_origin_names_the_input_in_yaml_errors() -> None:
    with pytest.raises(ModelError) as caught:
        parse_model("a: [1\n", origin="checkout.yaml")
    assert str(caught.value) == (
        "malformed YAML in checkout.yaml at line 2, column 1: while parsing a flow sequence, "
        "did not find expected ',' or ']'"
    )


def test_invalid_utf8_is_a_model_error_on_one_line() -> None:
    with pytest.raises(ModelError) as caught:
        parse_model(b"schemaVersion: 1\nx: \xe9\n")
    assert str(caught.value) == (
        "malformed YAML in model: unacceptable character #x-001: incomplete UTF-8 octet "
        'sequence in "<byte string>", position 20'
    )


def test_a_merge_key_is_an_ordinary_key() -> None:
    # YAML 1.2, as FlowTime's engine reads models: "<<" merges nothing.
    text = doc(
        nodes="""nodes:
  - &base {id: demand, kind: const, values: [1, 2, 3]}
  - {<<: *base, id: other}"""
    )
    with pytest.raises(ModelError) as caught:
        parse_model(text)
    assert str(caught.value) == (
        "node 'other': kind is missing; use one of const, pmf, expr, router, serviceWithBuffer"
    )


# --- refusals ---------------------------------------------------------------------------------

BROKEN = [
    pytest.param(
        doc(nodes=nodes("{id: false, kind: const, values: [1, 2, 3]}")),
        (
            "nodes[0].id must be a letter or '_' followed by letters, digits or '_', got false "
            "(a boolean); YAML reads unquoted true and false as booleans, so quote it"
        ),
        None,
        "nodes[0].id",
        id="boolean id",
    ),
    pytest.param(
        doc(extra="outputs:\n  - {series: true}"),
        (
            "outputs[0].series true (a boolean) is not a node; YAML reads unquoted true and "
            "false as booleans, so quote it"
        ),
        None,
        "outputs[0].series",
        id="boolean series",
    ),
    pytest.param(
        doc(
            nodes=nodes(
                "{id: a, kind: const, values: [1, 2, 3]}", '{id: s, kind: expr, expr: "SUM(a, 1)"}'
            )
        ),
        (
            "node 's': unknown function 'SUM' at column 1 in expression \"SUM(a, 1)\"; known "
            "functions: CEIL, CLAMP, CONV, FLOOR, MAX, MIN, MOD, PULSE, ROUND, SHIFT, STEP"
        ),
        "s",
        "nodes[1].expr",
        id="unknown function",
    ),
    pytest.param(
        doc(
            nodes=nodes(
                "{id: demand, kind: const, values: [1, 2, 3]}",
                '{id: s, kind: expr, expr: "dmand * 2"}',
            )
        ),
        (
            "node 's': unknown node 'dmand' at column 1 in expression \"dmand * 2\"; did you "
            "mean 'demand'?"
        ),
        "s",
        "nodes[1].expr",
        id="unknown node",
    ),
    pytest.param(
        doc(
            nodes=nodes(
                "{id: a, kind: const, values: [1, 2, 3]}",
                '{id: served, kind: expr, expr: "MIN(a,))"}',
            )
        ),
        "node 'served': unexpected ')' at column 7 in expression \"MIN(a,))\"",
        "served",
        "nodes[1].expr",
        id="syntax",
    ),
    pytest.param(
        doc(
            nodes=nodes(
                "{id: a, kind: const, values: [1, 2, 3]}",
                '{id: s, kind: expr, expr: "CLAMP(a, 0)"}',
            )
        ),
        (
            "node 's': CLAMP takes exactly 3 arguments, got 2 at column 1 in expression "
            '"CLAMP(a, 0)"'
        ),
        "s",
        "nodes[1].expr",
        id="arity",
    ),
    pytest.param(
        doc(
            nodes=nodes(
                "{id: a, kind: const, values: [1, 2, 3]}",
                '{id: s, kind: expr, expr: "SHIFT(a, -1)"}',
            )
        ),
        (
            "node 's': SHIFT's k must be a whole, non-negative number literal, got '-1' at "
            'column 10 in expression "SHIFT(a, -1)"'
        ),
        "s",
        "nodes[1].expr",
        id="shift neg",
    ),
    pytest.param(
        doc(
            nodes=nodes(
                "{id: a, kind: const, values: [1, 2, 3]}",
                '{id: s, kind: expr, expr: "SHIFT(a, 0.5)"}',
            )
        ),
        (
            "node 's': SHIFT's k must be a whole, non-negative number literal, got '0.5' at "
            'column 10 in expression "SHIFT(a, 0.5)"'
        ),
        "s",
        "nodes[1].expr",
        id="shift frac",
    ),
    pytest.param(
        doc(
            nodes=nodes(
                "{id: a, kind: const, values: [1, 2, 3]}",
                '{id: s, kind: expr, expr: "SHIFT(a, a)"}',
            )
        ),
        (
            "node 's': SHIFT's k must be a whole, non-negative number literal, got 'a' at column "
            '10 in expression "SHIFT(a, a)"'
        ),
        "s",
        "nodes[1].expr",
        id="shift expr",
    ),
    pytest.param(
        doc(
            nodes=nodes('{id: a, kind: expr, expr: "b + 1"}', '{id: b, kind: expr, expr: "a * 2"}')
        ),
        (
            "node 'a': cycle without a lag: a -> b -> a; each reads the next in the same bin, so "
            "none can be computed first: read one of them a bin late with SHIFT(x, 1)"
        ),
        "a",
        "nodes[0].expr",
        id="cycle",
    ),
    pytest.param(
        doc(
            nodes=nodes(
                '{id: d, kind: expr, expr: "a"}',
                '{id: a, kind: expr, expr: "b"}',
                '{id: b, kind: expr, expr: "c + SHIFT(c, 1)"}',
                '{id: c, kind: expr, expr: "a + SHIFT(a, 2)"}',
            )
        ),
        (
            "node 'a': cycle without a lag: a -> b -> c -> a; each reads the next in the same "
            "bin, so none can be computed first: read one of them a bin late with SHIFT(x, 1)"
        ),
        "a",
        "nodes[1].expr",
        id="cycle3 inside and outside SHIFT",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const, values: [1, 2]}")),
        (
            "node 'demand': values has 2 entries but the grid has 3 bins; give exactly one value "
            "per bin"
        ),
        "demand",
        "nodes[0].values",
        id="const length",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const, values: [1, true, 3]}")),
        "node 'demand': values[1] must be a finite number, got true (a boolean)",
        "demand",
        "nodes[0].values[1]",
        id="const bool",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const, values: [1, '2', 3]}")),
        "node 'demand': values[1] must be a finite number, got '2'",
        "demand",
        "nodes[0].values[1]",
        id="const string",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const, values: [1, .nan, 3]}")),
        "node 'demand': values[1] must be a finite number, got nan",
        "demand",
        "nodes[0].values[1]",
        id="const nan",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const, values: [1, -.inf, 3]}")),
        "node 'demand': values[1] must be a finite number, got -inf",
        "demand",
        "nodes[0].values[1]",
        id="const inf",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const, values: [1, " + "9" * 400 + ", 3]}")),
        (
            "malformed YAML in model at line 4, column 43: integer 999999999999... has 400 "
            "digits; at most 100 are read"
        ),
        None,
        None,
        id="const bigint",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const, values: []}")),
        "node 'demand': values must be a non-empty list of numbers, got an empty list",
        "demand",
        "nodes[0].values",
        id="const empty",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const, values: 5}")),
        "node 'demand': values must be a non-empty list of numbers, got 5",
        "demand",
        "nodes[0].values",
        id="const scalar",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const}")),
        (
            "node 'demand': values is missing; a const node needs one value per bin, e.g. "
            "'values: [10, 12, 9]'"
        ),
        "demand",
        "nodes[0].values",
        id="const missing",
    ),
    pytest.param(
        doc(
            nodes=nodes(
                "{id: size, kind: pmf, pmf: {values: [1, 2, 3], probabilities: [0.5, 0.5]}}"
            )
        ),
        "node 'size': pmf has 3 values but 2 probabilities; give one probability per value",
        "size",
        "nodes[0].pmf.probabilities",
        id="pmf unequal",
    ),
    pytest.param(
        doc(
            nodes=nodes("{id: size, kind: pmf, pmf: {values: [1, 2], probabilities: [1.2, -0.2]}}")
        ),
        "node 'size': pmf.probabilities[1] must not be negative, got -0.2",
        "size",
        "nodes[0].pmf.probabilities[1]",
        id="pmf negative",
    ),
    pytest.param(
        doc(nodes=nodes("{id: size, kind: pmf, pmf: {values: [1, 2], probabilities: [0, 0]}}")),
        "node 'size': pmf probabilities sum to 0; at least one must be positive",
        "size",
        "nodes[0].pmf.probabilities",
        id="pmf zero",
    ),
    pytest.param(
        doc(
            nodes=nodes(
                "{id: size, kind: pmf, pmf: {values: [1, 2, 1.0], probabilities: [0.2, 0.3, 0.5]}}"
            )
        ),
        (
            "node 'size': pmf value 1 is listed twice (pmf.values[0] and pmf.values[2]); list "
            "each value once and add up its probabilities"
        ),
        "size",
        "nodes[0].pmf.values[2]",
        id="pmf dup",
    ),
    pytest.param(
        doc(nodes=nodes("{id: size, kind: pmf, pmf: {values: [1, 2]}}")),
        "node 'size': pmf.probabilities must be a non-empty list of numbers, got null",
        "size",
        "nodes[0].pmf.probabilities",
        id="pmf missing probs",
    ),
    pytest.param(
        doc(nodes=nodes("{id: size, kind: pmf, pmf: [1, 2]}")),
        (
            "node 'size': pmf must be a mapping like {values: [1, 2], probabilities: [0.5, "
            "0.5]}, got a list"
        ),
        "size",
        "nodes[0].pmf",
        id="pmf not mapping",
    ),
    pytest.param(
        doc(nodes=nodes("{id: size, kind: pmf, pmf: {values: [1], probability: [1]}}")),
        (
            "node 'size': unknown key 'probability' in pmf; did you mean 'probabilities'? "
            "Allowed keys: values, probabilities"
        ),
        "size",
        "nodes[0].pmf.probability",
        id="pmf unknown key",
    ),
    pytest.param(
        doc(nodes=nodes("{id: size, kind: pmf}")),
        (
            "node 'size': pmf is missing; a pmf node needs 'pmf: {values: [1, 2], probabilities: "
            "[0.5, 0.5]}'"
        ),
        "size",
        "nodes[0].pmf",
        id="pmf missing",
    ),
    pytest.param(
        doc(
            nodes=nodes(
                "{id: demand, kind: const, values: [1, 2, 3]}",
                "{id: x, kind: const, values: [1, 2, 3]}",
                "{id: demand, kind: const, values: [1, 2, 3]}",
            )
        ),
        "node 'demand' is defined twice (nodes[0] and nodes[2]); node ids must be unique",
        "demand",
        "nodes[2].id",
        id="dup id",
    ),
    pytest.param(
        doc(nodes=nodes("{id: my-node, kind: const, values: [1, 2, 3]}")),
        "nodes[0].id must be a letter or '_' followed by letters, digits or '_', got 'my-node'",
        None,
        "nodes[0].id",
        id="bad id",
    ),
    pytest.param(
        doc(nodes=nodes("{id: 7, kind: const, values: [1, 2, 3]}")),
        "nodes[0].id must be a letter or '_' followed by letters, digits or '_', got 7",
        None,
        "nodes[0].id",
        id="int id",
    ),
    pytest.param(
        doc(nodes=nodes("{kind: const, values: [1, 2, 3]}")),
        "nodes[0] has no id; give every node an id such as 'demand'",
        None,
        "nodes[0].id",
        id="no id",
    ),
    pytest.param(
        doc(nodes=nodes("demand")),
        "nodes[0] must be a mapping with id and kind, got 'demand'",
        None,
        "nodes[0]",
        id="node not mapping",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, values: [1, 2, 3]}")),
        ("node 'demand': kind is missing; use one of const, pmf, expr, router, serviceWithBuffer"),
        "demand",
        "nodes[0].kind",
        id="no kind",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: constant, values: [1, 2, 3]}")),
        (
            "node 'demand': unknown kind 'constant'; use one of const, pmf, expr, router, "
            "serviceWithBuffer"
        ),
        "demand",
        "nodes[0].kind",
        id="bad kind",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const, value: [1, 2, 3]}")),
        (
            "node 'demand': unknown key 'value' for a const node; did you mean 'values'? Allowed "
            "keys: id, kind, values, metadata"
        ),
        "demand",
        "nodes[0].value",
        id="node unknown key",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const, values: [1, 2, 3], expr: a}")),
        (
            "node 'demand': unknown key 'expr' for a const node; allowed keys: id, kind, values, "
            "metadata"
        ),
        "demand",
        "nodes[0].expr",
        id="node other kind key",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: expr, expr: 10}")),
        "node 'demand': expr must be a string (quote it), got 10",
        "demand",
        "nodes[0].expr",
        id="expr not string",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: expr}")),
        (
            "node 'demand': expr is missing; an expr node needs a formula, e.g. 'expr: "
            '"demand * 0.8"\''
        ),
        "demand",
        "nodes[0].expr",
        id="expr missing",
    ),
    pytest.param(
        doc(grid="grid: {bins: 0, binSize: 1, binUnit: hours}"),
        "grid.bins must be an integer from 1 to 100000, got 0",
        None,
        "grid.bins",
        id="bins 0",
    ),
    pytest.param(
        doc(grid="grid: {bins: 100001, binSize: 1, binUnit: hours}"),
        "grid.bins must be an integer from 1 to 100000, got 100001",
        None,
        "grid.bins",
        id="bins big",
    ),
    pytest.param(
        doc(grid="grid: {bins: 3.0, binSize: 1, binUnit: hours}"),
        "grid.bins must be an integer from 1 to 100000, got 3.0",
        None,
        "grid.bins",
        id="bins float",
    ),
    pytest.param(
        doc(grid="grid: {bins: true, binSize: 1, binUnit: hours}"),
        "grid.bins must be an integer from 1 to 100000, got true (a boolean)",
        None,
        "grid.bins",
        id="bins bool",
    ),
    pytest.param(
        doc(grid="grid: {binSize: 1, binUnit: hours}"),
        "grid.bins is missing; e.g. 'grid: {bins: 24, binSize: 1, binUnit: hours}'",
        None,
        "grid.bins",
        id="bins missing",
    ),
    pytest.param(
        doc(grid="grid: {bins: 3, binSize: 0, binUnit: hours}"),
        "grid.binSize must be an integer of at least 1, got 0",
        None,
        "grid.binSize",
        id="binSize 0",
    ),
    pytest.param(
        doc(grid="grid: {bins: 3, binSize: 1, binUnit: fortnights}"),
        "grid.binUnit must be one of minutes, hours, days, weeks, got 'fortnights'",
        None,
        "grid.binUnit",
        id="binUnit",
    ),
    pytest.param(
        doc(grid="grid: {bins: 3, binSize: 1, binUnit: 60}"),
        "grid.binUnit must be one of minutes, hours, days, weeks, got 60",
        None,
        "grid.binUnit",
        id="binUnit int",
    ),
    pytest.param(
        doc(grid="grid: {bins: 3, binsize: 1, binUnit: hours}"),
        (
            "unknown key 'binsize' in grid; did you mean 'binSize'? Allowed keys: bins, binSize, "
            "binUnit, start, startTimeUtc"
        ),
        None,
        "grid.binsize",
        id="grid key",
    ),
    pytest.param(
        doc(grid=""),
        "grid is missing; add e.g. 'grid: {bins: 24, binSize: 1, binUnit: hours}'",
        None,
        "grid",
        id="grid missing",
    ),
    pytest.param(
        doc(grid="grid: [3, 1, hours]"),
        "grid must be a mapping like {bins: 24, binSize: 1, binUnit: hours}, got a list",
        None,
        "grid",
        id="grid list",
    ),
    pytest.param(
        doc(grid="grid: {bins: 3, binSize: 1, binUnit: hours, start: tomorrow}"),
        "grid.start must be an ISO-8601 date-time such as 2025-01-01T00:00:00Z, got 'tomorrow'",
        None,
        "grid.start",
        id="start bad",
    ),
    pytest.param(
        doc(grid="grid: {bins: 3, binSize: 1, binUnit: hours, start: 2025}"),
        "grid.start must be an ISO-8601 date-time such as 2025-01-01T00:00:00Z, got 2025",
        None,
        "grid.start",
        id="start int",
    ),
    pytest.param(
        doc(grid="grid: {bins: 3, binSize: 1, binUnit: days, start: 9999-12-30T00:00:00Z}"),
        (
            "grid.start 9999-12-30T00:00:00Z is too late: 3 bins of 1 days would run past the "
            "year 9999; choose an earlier start or a shorter grid"
        ),
        None,
        "grid.start",
        id="start late",
    ),
    pytest.param(
        doc(top=""),
        "schemaVersion is missing; add 'schemaVersion: 1' to the model",
        None,
        "schemaVersion",
        id="schema missing",
    ),
    pytest.param(
        doc(top="schemaVersion: 2"),
        "schemaVersion must be 1, got 2",
        None,
        "schemaVersion",
        id="schema 2",
    ),
    pytest.param(
        doc(top="schemaVersion: '1'"),
        "schemaVersion must be 1, got '1'",
        None,
        "schemaVersion",
        id="schema str",
    ),
    pytest.param(
        doc(top="schemaVersion: true"),
        "schemaVersion must be 1, got true (a boolean)",
        None,
        "schemaVersion",
        id="schema bool",
    ),
    pytest.param(
        doc(extra="metadata: {title: x}"),
        (
            "unknown key 'metadata' at the top level; allowed keys: schemaVersion, grid, rng, "
            "nodes, outputs, topology, classes, traffic, provenance"
        ),
        None,
        "metadata",
        id="unknown top",
    ),
    pytest.param(
        doc(extra="output: []"),
        (
            "unknown key 'output' at the top level; did you mean 'outputs'? Allowed keys: "
            "schemaVersion, grid, rng, nodes, outputs, topology, classes, traffic, provenance"
        ),
        None,
        "output",
        id="typo top",
    ),
    pytest.param(
        doc(extra="rng: {kind: mt19937, seed: 1}"),
        "rng.kind must be pcg32, got 'mt19937'",
        None,
        "rng.kind",
        id="rng kind",
    ),
    pytest.param(
        doc(extra="rng: {kind: pcg32}"),
        "rng.seed is missing; give an integer seed, e.g. 'rng: {kind: pcg32, seed: 42}'",
        None,
        "rng.seed",
        id="rng seed missing",
    ),
    pytest.param(
        doc(extra="rng: {kind: pcg32, seed: 1.5}"),
        "rng.seed must be an integer from -9223372036854775808 to 18446744073709551615, got 1.5",
        None,
        "rng.seed",
        id="rng seed float",
    ),
    pytest.param(
        doc(extra="rng: {seed: 18446744073709551616}"),
        (
            "rng.seed must be an integer from -9223372036854775808 to 18446744073709551615, got "
            "18446744073709551616"
        ),
        None,
        "rng.seed",
        id="rng seed big",
    ),
    pytest.param(
        doc(extra="rng: pcg32"),
        "rng must be a mapping like {kind: pcg32, seed: 42}, got 'pcg32'",
        None,
        "rng",
        id="rng scalar",
    ),
    pytest.param(
        doc(extra="rng: {seed: 1, sed: 2}"),
        "unknown key 'sed' in rng; did you mean 'seed'? Allowed keys: kind, seed",
        None,
        "rng.sed",
        id="rng key",
    ),
    pytest.param(
        doc(nodes=""),
        "nodes is missing; a model needs at least one node",
        None,
        "nodes",
        id="nodes missing",
    ),
    pytest.param(
        doc(nodes="nodes: []"),
        "nodes must be a non-empty list of nodes, got an empty list",
        None,
        "nodes",
        id="nodes empty",
    ),
    pytest.param(
        doc(nodes="nodes: {a: 1}"),
        "nodes must be a non-empty list of nodes, got a mapping",
        None,
        "nodes",
        id="nodes mapping",
    ),
    pytest.param(
        doc(extra="outputs:\n  - {series: srved}"),
        "outputs[0].series 'srved' is not a node; did you mean 'served'?",
        None,
        "outputs[0].series",
        id="outputs unknown series",
    ),
    pytest.param(
        doc(extra="outputs: served"),
        "outputs must be a list like [{series: served}], got 'served'",
        None,
        "outputs",
        id="outputs not list",
    ),
    pytest.param(
        doc(extra="outputs:\n  - served"),
        "outputs[0] must be a mapping like {series: served, as: served.csv}, got 'served'",
        None,
        "outputs[0]",
        id="outputs item string",
    ),
    pytest.param(
        doc(extra="outputs:\n  - {as: x.csv}"),
        "outputs[0].series is missing; name the node to output",
        None,
        "outputs[0].series",
        id="outputs no series",
    ),
    pytest.param(
        doc(extra="outputs:\n  - {series: served, file: x.csv}"),
        "unknown key 'file' in outputs[0]; allowed keys: series, as, exclude",
        None,
        "outputs[0].file",
        id="outputs unknown key",
    ),
    pytest.param(
        doc(extra="outputs:\n  - {series: served, as: ../x.csv}"),
        "outputs[0].as must be a plain file name such as served.csv, got '../x.csv'",
        None,
        "outputs[0].as",
        id="outputs as path",
    ),
    pytest.param(
        doc(extra="outputs:\n  - {series: served, as: 5}"),
        "outputs[0].as must be a plain file name such as served.csv, got 5",
        None,
        "outputs[0].as",
        id="outputs as int",
    ),
    pytest.param(
        doc(extra="outputs:\n  - {series: served}\n  - {series: served, as: b.csv}"),
        "outputs[1].series 'served' is already listed in outputs[0]; list each series once",
        None,
        "outputs[1].series",
        id="outputs dup series",
    ),
    pytest.param(
        doc(extra="outputs:\n  - {series: served, as: x.csv}\n  - {series: demand, as: x.csv}"),
        ("outputs[1].as 'x.csv' is already used by outputs[0]; give each output its own file name"),
        None,
        "outputs[1].as",
        id="outputs dup as",
    ),
    pytest.param(
        "schemaVersion: 1\ngrid: {bins: 3, binSize: 1\nnodes: []\n",
        (
            "malformed YAML in model at line 3, column 6: while parsing a flow mapping, did not "
            "find expected ',' or '}'"
        ),
        None,
        None,
        id="yaml malformed",
    ),
    pytest.param(
        "schemaVersion: 1\ngrid:\n  bins: 3\n bad: 1\n",
        (
            "malformed YAML in model at line 4, column 2: while parsing a block mapping, did not "
            "find expected key"
        ),
        None,
        None,
        id="yaml malformed2",
    ),
    pytest.param(
        "schemaVersion: 1\n\tgrid: {}\n",
        (
            "malformed YAML in model at line 2, column 1: while scanning a plain scalar, found a "
            "tab character that violates indentation"
        ),
        None,
        None,
        id="yaml tab",
    ),
    pytest.param(
        doc(nodes=nodes("{id: demand, kind: const, values: [1, 2, 3], id: other}")),
        "duplicate key 'id' in model at line 4, column 50; give each key once per mapping",
        None,
        None,
        id="dup key",
    ),
    pytest.param(
        "- 1\n- 2\n",
        "model must be a mapping with schemaVersion, grid and nodes, got a list",
        None,
        None,
        id="list top",
    ),
    pytest.param(
        "hello\n",
        "model must be a mapping with schemaVersion, grid and nodes, got 'hello'",
        None,
        None,
        id="scalar top",
    ),
    pytest.param(
        "",
        "model is empty; expected a mapping with schemaVersion, grid and nodes",
        None,
        None,
        id="empty",
    ),
    pytest.param(
        doc() + "---\n" + doc(),
        (
            "malformed YAML in model at line 6, column 1: expected a single document in the "
            "stream, but found another document"
        ),
        None,
        None,
        id="multi doc",
    ),
    pytest.param(
        doc(extra="rng: !!python/object:os.system {}"),
        (
            "malformed YAML in model at line 6, column 6: could not determine a constructor for "
            "the tag 'tag:yaml.org,2002:python/object:os.system'"
        ),
        None,
        None,
        id="python tag",
    ),
]


@pytest.mark.parametrize(("text", "message", "node", "field"), BROKEN)
def test_broken_models_are_refused_with_a_precise_message(
    text: str, message: str, node: str | None, field: str | None
) -> None:
    with pytest.raises(ModelError) as caught:
        parse_model(text)
    assert str(caught.value) == message
    assert caught.value.node == node
    assert caught.value.field == field


def test_messages_stay_short_when_the_offending_value_is_long() -> None:
    text = doc(nodes=nodes("{id: demand, kind: const, values: [1, '" + "x" * 500 + "', 3]}"))
    with pytest.raises(ModelError) as caught:
        parse_model(text)
    assert str(caught.value) == (
        "node 'demand': values[1] must be a finite number, got "
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."
    )


def test_a_model_error_is_a_user_error_answered_with_422() -> None:
    from flowtime_sim.errors import UserError
    from flowtime_sim.service.problems import status_of

    with pytest.raises(ModelError) as caught:
        parse_model(doc(top="schemaVersion: 2"))
    assert isinstance(caught.value, UserError)
    assert status_of(caught.value) == 422
