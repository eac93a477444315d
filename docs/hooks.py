"""MkDocs hooks: pages generated from the code, so the reference cannot drift from it.

A page asks for generated content with an HTML comment on a line of its own:

- ``<!-- flowtime:hookspecs -->``: every hookspec in :mod:`flowtime_sim.hookspecs`, with its
  signature, kind and docstring (examples included);
- ``<!-- flowtime:types -->``: the typed objects hooks take and return (:mod:`flowtime_sim.types`);
- ``<!-- flowtime:deprecations -->``: :data:`flowtime_sim.deprecations.DEPRECATIONS`;
- ``<!-- flowtime:plugin-api-version -->``: :data:`flowtime_sim.PLUGIN_API_VERSION` (inline).

``docs/reference/hooks.md`` is generated whole and committed, so that it reads in the
repository as it does on the site: ``python docs/hooks.py`` writes it again after a hookspec's
docstring changed; ``tests/test_docs.py`` checks that the committed page is what this file
generates.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap
from collections.abc import Callable
from typing import Any

_ROLE = re.compile(r":(?:class|func|data|mod|meth|attr|exc):`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")
_CONTRACT_REF = re.compile(r"\s*\(SPEC §[0-9.,§ ]+\)")  # the docs stand on their own


def hookspec_functions() -> list[Callable[..., Any]]:
    """Every hookspec function, in the order the contract module defines them."""
    from flowtime_sim import hookspecs

    return [
        fn for name, fn in vars(hookspecs).items() if name.startswith("flowtime_") and callable(fn)
    ]


def hookspec_options(fn: Callable[..., Any]) -> dict[str, Any]:
    from flowtime_sim.markers import PROJECT

    return dict(getattr(fn, f"{PROJECT}_spec", None) or {})


def signature(fn: Callable[..., Any]) -> str:
    """``def name(arg: Type, ...) -> Return`` with the annotations as written."""
    sig = inspect.signature(fn)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"def {fn.__name__}({params}) -> {sig.return_annotation}"


def rst_to_markdown(doc: str) -> str:
    """The reStructuredText of the host's docstrings as Markdown: roles become code, and a
    paragraph ending in ``::`` introduces a Python code block (its indented lines)."""
    lines = inspect.cleandoc(doc).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            text = line.rstrip()[:-2].rstrip()
            out.append(_inline(text) + (":" if text else ""))
            i += 1
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                block.append(lines[i])
                i += 1
            out += ["", "```python", textwrap.dedent("\n".join(block)).strip("\n"), "```", ""]
            continue
        out.append(_inline(line))
        i += 1
    return "\n".join(out).strip() + "\n"


def _inline(text: str) -> str:
    text = _CONTRACT_REF.sub("", text)
    text = _ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    return _LITERAL.sub(r"`\1`", text)


def _kind(opts: dict[str, Any]) -> str:
    if opts.get("warn_on_impl") is not None:
        return "**deprecated**: implementing it emits `FlowtimeSimDeprecationWarning`"
    if opts.get("firstresult"):
        return "first result: stops at the first implementation that returns a non-`None` value"
    if opts.get("historic"):
        return "historic: also called for plugins registered later"
    return "collect-all: every implementation is called and every result used"


def hookspecs_markdown() -> str:
    """Every hook, the deprecated ones last."""
    parts = []
    functions = hookspec_functions()
    functions.sort(key=lambda fn: hookspec_options(fn).get("warn_on_impl") is not None)
    for fn in functions:
        opts = hookspec_options(fn)
        parts += [
            f"## `{fn.__name__}`",
            "",
            "```python",
            signature(fn),
            "```",
            "",
            f"*Kind:* {_kind(opts)}.",
            "",
            rst_to_markdown(fn.__doc__ or ""),
        ]
    return "\n".join(parts)


def types_markdown() -> str:
    from flowtime_sim import types

    names = (
        "TemplateManifest",
        "Template",
        "PackInfo",
        "ParameterSources",
        "ResolvedParameters",
        "Preview",
        "StorageBackend",
    )
    parts = []
    for name in names:
        cls = getattr(types, name)
        rows = ["| field | type | default |", "|---|---|---|"]
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                default = f"`{f.default!r}`"
            elif f.default_factory is not dataclasses.MISSING:
                default = f"`{f.default_factory()!r}`"
            else:
                default = "required"
            rows.append(f"| `{f.name}` | `{f.type}` | {default} |")
        parts += [f"### `{name}`", "", rst_to_markdown(cls.__doc__ or ""), *rows, ""]
    return "\n".join(parts)


def deprecations_markdown() -> str:
    from flowtime_sim.deprecations import DEPRECATIONS

    if not DEPRECATIONS:
        return "Nothing is deprecated in this plugin API.\n"
    rows = [
        "| deprecated | use instead | since plugin API | removed in | note |",
        "|---|---|---|---|---|",
    ]
    rows += [
        f"| `{d.name.removeprefix('hook ')}` | `{d.replacement}` | {d.since} | {d.removal} "
        f"| {d.note} |"
        for d in DEPRECATIONS
    ]
    return "\n".join(rows) + "\n"


def expand(markdown: str) -> str:
    """Replace every ``<!-- flowtime:... -->`` marker in ``markdown``."""
    from flowtime_sim import PLUGIN_API_VERSION

    generated: dict[str, Callable[[], str]] = {
        "hookspecs": hookspecs_markdown,
        "types": types_markdown,
        "deprecations": deprecations_markdown,
        "plugin-api-version": lambda: PLUGIN_API_VERSION,
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in generated:
            raise ValueError(
                f"unknown generated section {name!r}; known: {', '.join(sorted(generated))}"
            )
        return generated[name]()

    return re.sub(r"<!-- flowtime:([a-z-]+) -->", replace, markdown)


HOOKS_PAGE = """\
<!-- Generated from flowtime_sim/hookspecs.py by docs/hooks.py: edit the hookspecs' docstrings,
then run 'python docs/hooks.py'. -->

# Hook reference

Generated from `flowtime_sim/hookspecs.py`, the plugin contract: every hook flowtime-sim calls,
and nothing else. Plugins implement hooks as functions named like the hook and decorated with
`flowtime_sim.hookimpl`; see [packs with Python code](../pack-authors/python.md).

- A **collect-all** hook calls every implementation and uses every result.
- A **first-result** hook stops at the first implementation that returns something other than
  `None`. The host's own implementation is registered with `trylast=True`, so any plugin's
  implementation runs before it; return `None` to leave a case to the next one. Use
  `@hookimpl(tryfirst=True)` to run before other plugins.
- An implementation may leave out arguments it does not use.

This is plugin API <!-- flowtime:plugin-api-version -->; the
[compatibility policy](../pack-authors/compatibility.md) says what may change and how.

<!-- flowtime:hookspecs -->

## Types

Hooks take and return these frozen dataclasses, importable from `flowtime_sim`. Each checks
itself when created, so a plugin's mistake is reported where it is made.

<!-- flowtime:types -->
"""


def hook_reference_page() -> str:
    """The whole of ``docs/reference/hooks.md``."""
    return expand(HOOKS_PAGE)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """MkDocs event: expand the markers of every page."""
    return expand(markdown)


if __name__ == "__main__":
    from pathlib import Path

    target = Path(__file__).parent / "reference" / "hooks.md"
    target.write_text(hook_reference_page(), encoding="utf-8", newline="\n")
    print(f"wrote {target}")
