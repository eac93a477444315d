"""The artifacts page, rendered in-process: cards, filters, detail pages, escaping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowtime_sim import Preview, hookimpl
from flowtime_sim.core import Flowtime
from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.service import create_app
from flowtime_sim.service.page import PAGE_POLICY
from flowtime_sim.types import ParameterSources
from tests.service.conftest import Client, MakeModel


def _cards(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<li class="card card-\w+" data-kind="(\w+)" data-id="([^"]+)">', html)


def test_an_empty_root_says_how_to_start(client: Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert page.headers["cache-control"] == "no-store"
    assert "No artifacts yet" in page.text
    assert "flowtime-sim new --template checkout" in page.text


def test_cards_and_filters(client: Client, make_model: MakeModel, ft: Flowtime) -> None:
    shop = make_model(name="Shop", tags=("retail",)).artifact
    rush = make_model(name="Rush", tags=("retail", "promo"), peak_factor=3).artifact
    run = ft.run_model(shop.id).artifact
    page = client.get("/").text
    assert sorted(_cards(page)) == sorted([("model", shop.id), ("model", rush.id), ("run", run.id)])
    assert "3 artifacts, newest first." in page
    assert f"{shop.id}@v1" in page and "<svg" in page  # the inline preview
    assert 'class="spark"' in page  # the run's sparkline
    assert _cards(client.get("/?kind=run").text) == [("run", run.id)]
    assert sorted(_cards(client.get("/?kind=model&template=checkout").text)) == sorted(
        [("model", shop.id), ("model", rush.id)]
    )
    tagged = client.get("/?tag=promo").text
    assert _cards(tagged) == [("model", rush.id)]
    assert 'href="/" title="Remove this tag filter"' in tagged
    assert _cards(client.get("/?tag=promo&tag=retail").text) == [("model", rush.id)]
    assert _cards(client.get("/?q=shop&kind=model").text) == [("model", shop.id)]
    none = client.get("/?tag=nothing").text
    assert "No artifacts match these filters." in none and "Nothing matches." in none
    assert 'href="/?tag=retail&amp;tag=promo"' in client.get("/?tag=retail").text


def test_more_than_a_page_links_to_older_artifacts(client: Client, make_model: MakeModel) -> None:
    for i in range(25):
        make_model(peak_factor=1 + i / 100)
    first = client.get("/?kind=model").text
    assert len(_cards(first)) == 24
    more = re.search(r'<a class="button" href="([^"]+)" rel="next">Older artifacts</a>', first)
    assert more is not None
    second = client.get(more.group(1).replace("&amp;", "&")).text
    assert len(_cards(second)) == 1
    assert not set(_cards(first)) & set(_cards(second))
    bad = client.get("/?cursor=garbage")
    assert bad.status_code == 400
    assert "invalid cursor &#39;garbage&#39;; pass the next_cursor of a previous page" in bad.text


def test_the_model_page(client: Client, make_model: MakeModel, ft: Flowtime) -> None:
    art = make_model(name="Shop", tags=("retail",)).artifact
    run = ft.run_model(art.id).artifact
    page = client.get(f"/models/{art.id}")
    assert page.status_code == 200 and page.headers["content-security-policy"] == PAGE_POLICY
    html = page.text
    assert "<h1>Shop</h1>" in html
    assert f'data-model="{art.id}" data-version="1"' in html
    assert '<th scope="row" class="mono">peak_factor</th>' in html
    assert "Multiplier applied to arrivals in the peak hours." in html  # from the template
    assert f'href="/runs/{run.id}"' in html
    assert f'href="/sim/models/{art.id}/v1/files/model.yaml"' in html
    assert f'href="/models/{art.id}?version=1"' in html
    derived = ft.derive(art.id, name="Busy", sets={"peak_factor": 3}).artifact
    assert (
        f'Derived from <a class="mono" href="/models/{art.id}?version=1">'
        in client.get(f"/models/{derived.id}").text
    )
    assert client.get(f"/models/{art.id}?version=1").status_code == 200
    missing = client.get(f"/models/{art.id}?version=4")
    assert missing.status_code == 404
    assert f"model {art.id} has no version 4 (versions: v1)" in missing.text
    bad = client.get("/models/NOT..VALID")
    assert bad.status_code == 404 and "invalid model id &#39;NOT..VALID&#39;" in bad.text


def test_the_run_page_and_its_fragment(client: Client, make_model: MakeModel, ft: Flowtime) -> None:
    art = make_model(name="Shop").artifact
    run = ft.run_model(art.id).artifact
    html = client.get(f"/runs/{run.id}").text
    assert f'<h1 class="mono">{run.id}</h1>' in html
    assert f'href="/models/{art.id}?version=1">Shop</a>' in html
    assert '<th scope="row" class="mono">arrivals</th>' in html
    assert "96 bins of 15 minutes" in html
    fragment = client.get(f"/runs/{run.id}?fragment=1").text
    assert fragment.lstrip().startswith('<div class="series"')
    assert "<html" not in fragment and "arrivals" in fragment
    redirect = client.get(f"/runs/{art.id}", follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == f"/models/{art.id}"
    assert client.get("/runs/absent-run_12345678").status_code == 404


def test_user_text_is_escaped(client: Client, ft: Flowtime) -> None:
    evil = "<script>alert(1)</script>"
    ft.create_model("checkout", ParameterSources(), name=f"x {evil}", tags=[evil])
    for path in ("/", "/?tag=" + evil):
        html = client.get(path).text
        assert evil not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


class HostilePreview:
    """A preview plugin whose SVG carries script: it must never be inlined."""

    @hookimpl
    def flowtime_render_preview(self, model: object, title: str | None) -> Preview:
        return Preview(
            content=b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
            b'<rect width="5" height="5"/></svg>'
        )


@pytest.fixture
def hostile(artifacts_root: Path) -> Iterator[Flowtime]:
    host = create_plugin_host()
    host.register(HostilePreview(), "hostile-preview")
    ft = Flowtime(host=host, root=str(artifacts_root), owner="me")
    yield ft
    ft.close()


def test_a_preview_with_script_is_shown_as_an_image(hostile: Flowtime) -> None:
    mid = hostile.create_model("checkout", ParameterSources()).artifact.id
    c = Client(create_app(hostile, tokens_file=""))
    try:
        for path in ("/", f"/models/{mid}"):
            html = c.get(path).text
            assert "onload" not in html
            assert f'src="/sim/models/{mid}/v1/files/preview.svg"' in html
    finally:
        c.close()


class HtmlPreview:
    """A preview plugin that names its file ``preview.html``."""

    @hookimpl
    def flowtime_render_preview(self, model: object, title: str | None) -> Preview:
        return Preview(
            content=b"<script>alert(1)</script>", media_type="text/html", filename="preview.html"
        )


def test_files_of_unknown_types_are_downloads(artifacts_root: Path) -> None:
    host = create_plugin_host()
    host.register(HtmlPreview(), "html-preview")
    ft = Flowtime(host=host, root=str(artifacts_root), owner="me")
    c = Client(create_app(ft, tokens_file=""))
    try:
        mid = ft.create_model("checkout", ParameterSources()).artifact.id
        served = c.get(f"/sim/models/{mid}/v1/files/preview.html")
        assert served.headers["content-type"] == "application/octet-stream"
        assert served.headers["content-disposition"] == (
            "attachment; filename*=UTF-8''preview.html"
        )
        assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert f'<img src="/sim/models/{mid}/v1/files/preview.html"' in c.get("/").text
        model = c.get(f"/sim/models/{mid}/v1/files/model.yaml")
        assert model.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert "content-disposition" not in model.headers
    finally:
        c.close()
        ft.close()
