"""``check_pack``: every check a template pack should pass before it is published.

For each template version of the pack: the template renders with its defaults and with each
example of its parameter schema (one example at a time, the other parameters at their
defaults); every such model validates, is stored in a temporary root with a catalog that
matches the shipped schema and a preview, and runs. The body reads only its parameters and the
host's helpers, renders the same text twice, and a hostile string value leaves the model's
structure unchanged.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowtime_sim.errors import (
    FlowtimeError,
    InvalidModelError,
    ParameterError,
    PluginError,
    TemplateError,
)
from flowtime_sim.registry.catalog import ModelArtifact, RunArtifact
from flowtime_sim.types import ParameterSources, ResolvedParameters, Template, semver_key

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.plugins import PluginHost

#: A string parameter value that tries every way out of a YAML scalar and into Jinja2.
HOSTILE_STRING = (
    "{{ 7*7 }}\n\"quoted\" 'single' \\ ${bins} {% raw %}\nnodes: []\n"
    "- {id: injected, kind: const, values: [1]}\n# \u2028end"
)
_EVALUATED = '49\n"quoted"'  # what HOSTILE_STRING starts with if Jinja2 evaluated it
_BENIGN_STRING = "plain text"
_CSV_HEADER = b"bin,time_bin,series,value\n"


class PackCheckFailed(AssertionError):
    """``check_pack`` found failures; the message lists each on one line.

    The pytest plugin shows it as that list alone, without the kit's source."""


@dataclass(frozen=True, slots=True)
class CheckedCase:
    """One parameter set that passed: ``case`` is ``defaults`` or ``name=value``."""

    template: str
    case: str
    model: str
    run: str | None = None


@dataclass
class PackReport:
    """What :func:`check_pack` checked and found. ``failures`` is empty when the pack passed."""

    pack: str | None
    templates: list[str] = field(default_factory=list)  # "id version", sorted
    cases: list[CheckedCase] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        what = f"pack {self.pack!r}" if self.pack else "the packs under test"
        head = (
            f"{what}: {len(self.templates)} template version(s), {len(self.cases)} "
            f"parameter set(s) passed, {len(self.failures)} failure(s)"
        )
        return "\n".join(
            [head, *(f"  - {f}" for f in self.failures), *(f"  note: {n}" for n in self.notes)]
        )


def check_pack(
    pack: str | None = None,
    *,
    host: PluginHost | None = None,
    run: bool = True,
    root: str | None = None,
    raise_on_failure: bool = True,
) -> PackReport:
    """Check every template version of ``pack`` (an entry-point name) and return the report.

    ``host`` defaults to a fresh host holding only ``pack``; given a host (the
    ``flowtime_host`` fixture), ``pack`` defaults to every pack in it. ``run=False`` skips the
    runs. Models go to ``root`` (default: a temporary folder). Raises ``AssertionError``
    listing every failure unless ``raise_on_failure`` is false.
    """
    __tracebackhide__ = True  # a failing pack's report is the message, not the kit's code
    from flowtime_sim.core import Flowtime
    from flowtime_sim.plugins import BUILTIN_PLUGINS
    from flowtime_sim.templates import TemplateIndex

    if host is None:
        if pack is None:
            raise TypeError("check_pack needs the pack's entry-point name or a host")
        from flowtime_sim.testing.packs import pack_host

        host = pack_host(pack)
    report = PackReport(pack)
    builtins = {name for name, _ in BUILTIN_PLUGINS}
    for rec in host.failures():
        if rec.name == pack or (pack is None and rec.name not in builtins):
            report.failures.append(f"pack {rec.name!r} {rec.status}: {rec.detail}")
    index = TemplateIndex.collect(host)
    report.failures += [
        p for p in index.problems if pack is None or repr(pack) in p or f"by {pack};" in p
    ]
    templates = sorted(
        (
            t
            for versions in index.by_id.values()
            for t in versions
            if (t.plugin == pack if pack else t.plugin not in builtins)
        ),
        key=lambda t: (t.id, semver_key(t.version)),
    )
    if not templates and not report.failures:
        report.failures.append(
            f"{'pack ' + repr(pack) if pack else 'the host'} provides no templates"
        )
    with tempfile.TemporaryDirectory(prefix="flowtime-check-") as tmp:
        ft = Flowtime(host=host, root=root or tmp, owner="flowtime-sim-check")
        try:
            for tpl in templates:
                _check_template(ft, tpl, report, run)
        finally:
            ft.close()
    _check_locks(host, templates, report)
    if raise_on_failure and report.failures:
        raise PackCheckFailed(report.summary())
    return report


def _check_locks(host: PluginHost, templates: list[Template], report: PackReport) -> None:
    """Released versions (``templates.lock``) unchanged: see :mod:`flowtime_sim.template_lock`."""
    from flowtime_sim.template_lock import check_lock, pack_folder

    for plugin in sorted({t.plugin for t in templates}):
        found = check_lock(
            plugin, pack_folder(host, plugin), [t for t in templates if t.plugin == plugin]
        )
        report.failures += found.failures
        report.notes += found.notes


def _check_template(ft: Flowtime, tpl: Template, report: PackReport, run: bool) -> None:
    label = f"{tpl.id} {tpl.version}"
    report.templates.append(label)
    props = tpl.manifest.parameters.get("properties") or {}
    for name, spec in props.items():
        if not isinstance(spec, Mapping):
            continue
        missing = [k for k in ("default", "description", "examples") if k not in spec]
        if missing:
            report.notes.append(f"{label}: parameter {name!r} has no {', '.join(missing)}")
    from flowtime_sim.schema_check import template_schema_problems

    invalid = template_schema_problems(tpl)
    if invalid:  # every case would fail alike: the schema is the one failure
        report.failures += [f"{label}: invalid parameter schema: {p}" for p in invalid]
        return
    report.failures += [f"{label}: {p}" for p in _undeclared_names(tpl)]
    cases: list[tuple[str, dict[str, Any]]] = [("defaults", {})]
    cases += [
        (f"{name}={_show(example)}", {name: example})
        for name, spec in props.items()
        if isinstance(spec, Mapping)
        for example in spec.get("examples") or ()
    ]
    # one line per distinct failure: the first case's message, and every case that failed alike
    failed: dict[str, tuple[str, list[str]]] = {}
    for case, sets in cases:
        try:
            report.cases.append(_check_case(ft, tpl, case, sets, run))
        except Exception as exc:  # every failure is reported, not just the first
            reason = (
                str(exc)
                if isinstance(exc, FlowtimeError | AssertionError)
                else (f"{type(exc).__name__}: {exc}")
            )
            reason = " ".join(reason.split())
            failed.setdefault(_alike(exc, reason), (reason, []))[1].append(case)
    for reason, which in failed.values():
        report.failures.append(f"{label} with {_cases(which)}: {reason}")
    report.failures += [f"{label}: {p}" for p in _sandbox_problems(ft.host, tpl)]


def _alike(exc: Exception, reason: str) -> str:
    """What two cases' failures share when they are the same mistake: an invalid model's
    problem and template line, without the model line that the parameters moved."""
    if isinstance(exc, InvalidModelError) and exc.template_line is not None:
        return f"{reason.rpartition(' [')[0]} @{exc.template_line}"
    return reason


def _cases(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{shown} ({len(names)} cases)"


def _check_case(
    ft: Flowtime, tpl: Template, case: str, sets: dict[str, Any], run: bool
) -> CheckedCase:
    created = ft.create_model(
        f"{tpl.plugin}:{tpl.id}", ParameterSources(sets=sets), version=tpl.version
    )
    model = created.artifact
    assert isinstance(model, ModelArtifact)
    _check_stored(ft, model)
    previews = [n for n in model.catalog["files"] if n != "model.yaml"]
    if not previews:
        raise AssertionError("no preview was rendered")
    for name in previews:
        if name.endswith(".svg"):
            _check_svg(ft.registry().read_file(model, name), name)
    if not run:
        return CheckedCase(f"{tpl.id} {tpl.version}", case, model.ref)
    result = ft.run_model(model.ref).artifact
    _check_stored(ft, result)
    if not ft.registry().read_file(result, "binned_v0.csv").startswith(_CSV_HEADER):
        raise AssertionError(f"run {result.id}: binned_v0.csv lacks the header line")
    return CheckedCase(f"{tpl.id} {tpl.version}", case, model.ref, result.id)


def _check_stored(ft: Flowtime, artifact: ModelArtifact | RunArtifact) -> None:
    """The catalog on disk matches the shipped schema and the hashes of the stored files."""
    import jsonschema

    from flowtime_sim.canonical import file_hash
    from flowtime_sim.registry.catalog import catalog_schema

    registry = ft.registry()
    catalog = json.loads(registry.read_file(artifact, "catalog.json"))
    errors = list(jsonschema.Draft202012Validator(catalog_schema()).iter_errors(catalog))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise AssertionError(
            f"{artifact.id}: catalog.json does not match the catalog schema "
            f"at {where}: {errors[0].message}"
        )
    for name, digest in catalog["files"].items():
        if file_hash(registry.read_file(artifact, name)) != digest:
            raise AssertionError(f"{artifact.id}: {name} does not match its catalog hash")


def _check_svg(data: bytes, name: str) -> None:
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise AssertionError(f"preview {name} is not well-formed XML: {exc}") from None
    if not root.tag.endswith("svg"):
        raise AssertionError(f"preview {name} is not an SVG document (root <{root.tag}>)")


def _undeclared_names(tpl: Template) -> list[str]:
    """Names a Jinja2 body reads that are neither its parameters nor the host's helpers."""
    if tpl.format != "jinja2":
        return []
    from jinja2 import TemplateSyntaxError, meta, nodes

    from flowtime_sim.builtin.jinja import TEMPLATE_GLOBALS, _environment

    # The helpers the sandbox offers, plus ``template`` ({id, version}) passed to every render.
    helpers = sorted([*TEMPLATE_GLOBALS, "template"])
    try:
        # the host's own environment: it knows the host's filters (node_id)
        ast = _environment().parse(tpl.read_body())
        reads = meta.find_undeclared_variables(ast)
    except TemplateSyntaxError:
        return []  # reported with its line by the rendering checks
    # Jinja2 counts a name set only in some {% if %} branches as read from outside; the body
    # sets it, and reading it where it is unset fails the render (StrictUndefined).
    assigned = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    params = set(tpl.manifest.parameter_names)
    unknown = sorted(reads - assigned - params - set(helpers))
    if not unknown:
        return []
    lines: dict[str, list[int]] = {}
    for node in ast.find_all(nodes.Name):
        if node.ctx == "load" and node.name in unknown:
            lines.setdefault(node.name, []).append(node.lineno)
    where = [
        f"{name} (line{'s' * (len(set(lines.get(name, []))) > 1)} "
        f"{', '.join(map(str, sorted(set(lines.get(name, [])))))})"
        for name in unknown
    ]
    what = "is not a parameter" if len(unknown) == 1 else "are not parameters"
    return [
        f"the body reads {', '.join(where)}, which {what}; a template may read only its "
        "parameters "
        f"({', '.join(sorted(params)) or 'none'}) and {', '.join(helpers)}"
    ]


def _sandbox_problems(host: PluginHost, tpl: Template) -> list[str]:
    """Render with a hostile value in each string parameter; the structure must not move."""
    from flowtime_sim.rendering import resolve_parameters

    try:
        defaults = dict(resolve_parameters(host, tpl, ParameterSources()).values)
        again = [_render_raw(host, tpl, defaults) for _ in range(2)]
    except Exception:  # the "defaults" case has reported it already
        return []
    problems = (
        []
        if again[0] == again[1]
        else [
            "rendering the defaults twice gave different models; a template must be deterministic"
        ]
    )
    props = tpl.manifest.parameters.get("properties") or {}
    for name, spec in props.items():
        if isinstance(spec, Mapping) and _accepts_string(spec):
            problems += _probe(host, tpl, defaults, name)
    return problems


def _probe(host: PluginHost, tpl: Template, defaults: dict[str, Any], name: str) -> list[str]:
    from flowtime_sim.yaml_dialect import MODEL_LIMITS, YamlError, load_yaml

    try:
        benign_text = _render_raw(host, tpl, {**defaults, name: _BENIGN_STRING})
        benign = load_yaml(benign_text, limits=MODEL_LIMITS)
    except Exception:  # the template refuses arbitrary strings: nothing to probe
        return []
    try:
        text = _render_raw(host, tpl, {**defaults, name: HOSTILE_STRING})
    except (TemplateError, ParameterError):
        return []  # refused cleanly (a body's fail() refuses input on purpose)
    except Exception as exc:  # a renderer must refuse a value with a TemplateError, not crash
        crash = exc.__cause__ if isinstance(exc, PluginError) and exc.__cause__ else exc
        return [
            f"parameter {name!r}: a hostile string value crashed the renderer: "
            f"{type(crash).__name__}: {crash}"
        ]
    try:
        hostile = load_yaml(text, limits=MODEL_LIMITS)
    except YamlError as exc:
        return [
            f"parameter {name!r}: a string value containing quotes and line breaks makes "
            f"the model invalid YAML ({' '.join(str(exc).split())}); insert values with "
            "{{ name }}, never inside quotes"
        ]
    if _skeleton(hostile) != _skeleton(benign):
        return [
            f"parameter {name!r}: a string value containing line breaks changed the "
            "model's structure; insert values with {{ name }}, never inside quotes"
        ]
    strings = list(_strings(hostile))
    if any(_EVALUATED in s for s in strings):
        return [
            f"parameter {name!r}: a value containing {{{{ 7*7 }}}} was evaluated as a "
            "template expression"
        ]
    if any(_BENIGN_STRING in s for s in _strings(benign)) and not any(
        HOSTILE_STRING in s for s in strings
    ):
        return [f"parameter {name!r}: a string value was altered on its way into the model"]
    return []


def _render_raw(host: PluginHost, tpl: Template, values: dict[str, Any]) -> str:
    """Render without validating ``values``: the sandbox must hold whatever gets through."""
    result = host.first(
        "flowtime_render_template",
        template=tpl,
        parameters=ResolvedParameters(tpl.id, tpl.version, values),
    )
    if result is None or not isinstance(result.value, str):
        raise TemplateError(f"no renderer for template format {tpl.format!r}")
    return result.value


def _accepts_string(spec: Mapping[str, Any]) -> bool:
    types = spec.get("type")
    return types == "string" or (isinstance(types, list) and "string" in types)


def _skeleton(doc: Any) -> Any:
    """The document's shape: keys and list lengths, with each scalar replaced by its type."""
    if isinstance(doc, Mapping):
        return {str(k): _skeleton(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_skeleton(v) for v in doc]
    return type(doc).__name__


def _strings(doc: Any) -> Any:
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, Mapping):
        for k, v in doc.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _strings(v)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."
