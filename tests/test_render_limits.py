"""Rendering is bounded: a template cannot hang a command or the service, nor allocate
without limit (``FLOWTIME_SIM_RENDER_TIMEOUT``, ``FLOWTIME_SIM_RENDER_MAX_BYTES``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from flowtime_sim.builtin.jinja import render_jinja
from flowtime_sim.errors import TemplateError, UserError
from flowtime_sim.limits import RENDER_TIMEOUT
from flowtime_sim.types import Template, TemplateManifest

WHERE = "template evil 1.2.3"
LIMIT = "16,777,216 (FLOWTIME_SIM_RENDER_MAX_BYTES)"
TOO_LONG = (
    "rendering took longer than the limit of 0.5 s (FLOWTIME_SIM_RENDER_TIMEOUT); "
    "the template loops too much (raise the limit if the work is meant)"
)
NESTED = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


def render(body: str) -> str:
    manifest = TemplateManifest(
        id="evil", version="1.2.3", title="T", parameters={"type": "object"}
    )
    return render_jinja(Template(manifest, read_body=lambda: body), {})


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWTIME_SIM_RENDER_TIMEOUT", "0.5")


@pytest.mark.parametrize(
    "body",
    [
        NESTED,
        "a: 1\n{% for c in 'x' * 1000000 %}{% for d in 'y' * 1000000 %}{% endfor %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(60) }}",
    ],
)
@pytest.mark.usefixtures("short_timeout")
def test_a_render_that_runs_too_long_is_stopped(body: str) -> None:
    with pytest.raises(TemplateError) as info:
        render(body)
    assert str(info.value) in (f"{WHERE} line 1: {TOO_LONG}", f"{WHERE} line 2: {TOO_LONG}")


def over(what: str, size: str, unit: str = "characters", line: int | None = 1) -> str:
    at = f" line {line}" if line else ""
    return f"{WHERE}{at}: {what} would be {size} {unit} long, more than the limit of {LIMIT}"


TEN_G = "10,000,000,000"
PADDED = "characters or items"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{% set s = 'x' * 10**10 %}a: 1", over("a string * 10000000000", TEN_G)),
        ("a: {{ [0] * 10**9 }}", over("a list * 1000000000", "1,000,000,000", "items")),
        (
            "a: 1\nb: {{ 10 ** (10 ** 10) }}",
            over("10 ** 10000000000", "4,152,410,119", "bytes", line=2),
        ),
        (
            "{% set ns = namespace(s='x' * 1000000) %}{% for i in range(40) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            over("a string joined with ~", "32,000,000"),
        ),
        (
            "{% set ns = namespace(s=[0] * 1000000) %}{% for i in range(40) %}"
            "{% set ns.s = ns.s + ns.s %}{% endfor %}",
            over("a list + a list", "32,000,000", "items"),
        ),
        ("a: {{ 'x' | center(10**10) }}", over("center(10000000000)", TEN_G, PADDED)),
        ("a: {{ 'x' | indent(10**10) }}", over("indent(10000000000)", TEN_G, PADDED)),
        ("a: {{ 'x'.ljust(10**10) }}", over("ljust(10000000000)", TEN_G, PADDED)),
        ("a: {{ '{:>10000000000}'.format(1) }}", over("a formatted field", TEN_G)),
        ("a: {{ '%10000000000s' % 1 }}", over("a formatted field", TEN_G)),
        ("a: {{ '%*d' % (10**10, 1) }}", over("a formatted field", TEN_G)),
        ("a: {{ '{:>{w}}'.format(1, w=10**10) }}", over("a formatted field", TEN_G)),
        ("a: {{ '%*s' | format(10**10, 1) }}", over("a formatted field", TEN_G)),
        ("a: {{ '{:>{w}}'.format_map({'w': 10**10}) }}", over("a formatted field", TEN_G)),
        ("a: {{ '%10000000000s' | format(1) }}", over("a formatted field", TEN_G)),
        ("a: {{ (['x' * 10000000] * 10) | join }}", over("the result of join", "20,000,000")),
        ("a: {{ ''.join(['x' * 10000000] * 10) }}", over("a joined string", "20,000,000")),
        (
            "a: {{ ('x' * 10000000) | replace('x', 'yy') }}",
            over("the result of replace", "20,000,000"),
        ),
        (
            "a: {{ ('x' * 10000000).replace('x', 'yy') }}",
            over("the result of replace", "20,000,000"),
        ),
        ("a: {{ repeat_to([1], 10**10) }}", over("repeat_to(..., 10000000000)", TEN_G, "items")),
        (
            "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
            over("the rendered model", "16,777,488", line=None),
        ),
    ],
)
def test_a_value_over_the_size_limit_is_refused_before_it_is_built(body: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        render(body)
    assert str(info.value) == message


def test_a_macro_that_calls_itself_for_ever_is_a_template_error() -> None:
    with pytest.raises(TemplateError) as info:
        render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
    assert str(info.value) == f"{WHERE}: macros call each other too deeply"


def test_what_stays_within_the_limits_renders_as_before() -> None:
    body = (
        "{% for i in range(2) %}- [{{ i ~ 'a' }}, {{ [1] * 2 }}, {{ 'ab' | replace('a', 'c') }}"
        ", {{ [1, 2] | join(',') }}, {{ 'x'.join(['a', 'b']) }}, {{ '%5.2f' % 3.14159 }}, "
        "{{ '{:>4}'.format(1) }}, {{ 2 ** 10 }}, {{ 'x' | center(3) }}]\n{% endfor %}"
    )
    assert render(body) == (
        '- ["0a", [1, 1], "cb", "1,2", "axb", " 3.14", "   1", 1024, " x "]\n'
        '- ["1a", [1, 1], "cb", "1,2", "axb", " 3.14", "   1", 1024, " x "]\n'
    )


def test_the_size_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWTIME_SIM_RENDER_MAX_BYTES", "100")
    with pytest.raises(TemplateError) as info:
        render("a: {{ 'x' * 101 }}")
    assert str(info.value) == (
        f"{WHERE} line 1: a string * 101 would be 101 characters long, "
        "more than the limit of 100 (FLOWTIME_SIM_RENDER_MAX_BYTES)"
    )
    assert render("a: {{ 'x' * 3 }}") == 'a: "xxx"'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "FLOWTIME_SIM_RENDER_TIMEOUT='soon' must be a positive number (s)"),
        ("-1", "FLOWTIME_SIM_RENDER_TIMEOUT='-1' must be a positive number (s)"),
        ("inf", "FLOWTIME_SIM_RENDER_TIMEOUT='inf' must be a positive number (s)"),
    ],
)
def test_a_bad_limit_setting_is_a_user_error(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv(RENDER_TIMEOUT.env, value)
    with pytest.raises(UserError) as info:
        render("a: 1")
    assert str(info.value) == message


def test_a_bad_size_setting_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWTIME_SIM_RENDER_MAX_BYTES", "1.5")
    with pytest.raises(UserError) as info:
        render("a: 1")
    assert str(info.value) == "FLOWTIME_SIM_RENDER_MAX_BYTES='1.5' must be a positive whole number"


# -- commands and the service --------------------------------------------------------------

HANG_PACK = {
    "hang/__init__.py": "",
    "hang/flowtime_pack.toml": 'plugin_api = ">=1,<2"\ntemplates = "templates"\n',
    "hang/templates/hang-1.0/template.yaml": (
        "id: hang\nversion: 1.0.0\ntitle: Hang\ndescription: Loops for ever.\n"
        "parameters: {type: object, properties: {}}\n"
    ),
    "hang/templates/hang-1.0/model.yaml.j2": NESTED + "\nschemaVersion: 1\n",
}
HANG = f"template hang 1.0.0 line 1: {TOO_LONG}"


@pytest.fixture
def hang_pack(fake_dist: Callable[..., Path], short_timeout: None) -> None:
    fake_dist("hang", HANG_PACK)


@pytest.mark.usefixtures("hang_pack")
def test_new_stops_a_render_that_runs_too_long(cli: Callable[..., Result]) -> None:
    result = cli("new", "--template", "hang")
    assert result.exit_code == 1
    assert result.stderr == f"error: {HANG}\n"


@pytest.mark.usefixtures("hang_pack")
def test_doctor_reports_a_render_that_runs_too_long(cli: Callable[..., Result]) -> None:
    result = cli("doctor", "--json")
    assert result.exit_code == 1
    assert f"template hang:hang 1.0.0: {HANG}" in json.loads(result.stdout)["problems"]


@pytest.mark.usefixtures("hang_pack")
def test_pack_check_reports_a_render_that_runs_too_long(cli: Callable[..., Result]) -> None:
    result = cli("pack", "check", "hang", "--json")
    assert result.exit_code == 1
    failures = json.loads(result.stdout)["failures"]
    assert any(HANG in failure for failure in failures), failures


@pytest.mark.usefixtures("hang_pack")
def test_the_service_answers_a_render_that_runs_too_long_and_serves_others(
    artifacts_root: Path,
) -> None:
    import asyncio

    import httpx

    from flowtime_sim.core import Flowtime
    from flowtime_sim.service import create_app

    ft = Flowtime(root=str(artifacts_root), owner="local-user")
    app = create_app(ft, tokens_file="")

    async def requests() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            hanging = [client.post("/sim/new", json={"template": "hang"}) for _ in range(4)]
            good = client.post("/sim/new", json={"template": "checkout"})
            return await asyncio.gather(*hanging, good)

    try:
        *slow, fine = asyncio.run(requests())
    finally:
        ft.close()
    for response in slow:
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == HANG
    assert fine.status_code == 201, fine.text
