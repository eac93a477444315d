"""Where reads run, which credentials win, and how failures inside the host are answered."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from fastapi import FastAPI

from flowtime_sim import hookimpl
from flowtime_sim.core import Flowtime
from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.service import create_app
from flowtime_sim.service.identity import SESSION_COOKIE
from tests.service.conftest import TOKEN_OF, Client, MakeModel, bearer, problem


def _reads_on(
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
    make_model: MakeModel,
) -> tuple[list[str], int]:
    offloaded: list[str] = []
    real = anyio.to_thread.run_sync

    async def spy(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        offloaded.append(threading.current_thread().name)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", spy)
    mid = make_model().artifact.id
    c = Client(app)
    try:
        status = c.get(f"/sim/models/{mid}").status_code
    finally:
        c.close()
    return offloaded, status


def test_reads_of_a_local_root_stay_on_the_event_loop(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch, make_model: MakeModel
) -> None:
    assert app.state.context.local_root
    offloaded, status = _reads_on(app, monkeypatch, make_model)
    assert (offloaded, status) == ([], 200)


def test_reads_of_other_roots_go_to_the_thread_pool(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch, make_model: MakeModel
) -> None:
    app.state.context.local_root = False  # as for an s3:// root
    offloaded, status = _reads_on(app, monkeypatch, make_model)
    assert status == 200 and len(offloaded) == 1


def test_a_bearer_token_wins_over_the_page_cookie(secured: Client, make_model: MakeModel) -> None:
    mid = make_model(owner="carol").artifact.id
    cookie = {"Cookie": f"{SESSION_COOKIE}={TOKEN_OF['carol']}"}
    assert secured.get(f"/sim/models/{mid}", headers=cookie).status_code == 200
    assert (
        secured.get(f"/sim/models/{mid}", headers={**cookie, **bearer("alice")}).status_code == 404
    )
    problem(
        secured.get(
            f"/sim/models/{mid}",
            headers={**cookie, "Authorization": "Bearer not-a-real-token-at-all"},
        ),
        401,
        "authorization",
    )
    stale = {"Cookie": f"{SESSION_COOKIE}=expired-token-expired"}
    problem(secured.get(f"/sim/models/{mid}", headers=stale), 401, "authorization")
    assert secured.get("/", headers=stale).status_code == 401  # the sign-in page


class BrokenPreview:
    @hookimpl
    def flowtime_render_preview(self, model: object, title: str | None) -> None:
        raise RuntimeError("the layout engine fell over")


def test_a_failing_preview_plugin_costs_only_the_preview(artifacts_root: object) -> None:
    host = create_plugin_host()
    host.register(BrokenPreview(), "broken-preview")
    ft = Flowtime(host=host, root=str(artifacts_root), owner="me")
    c = Client(create_app(ft, tokens_file=""))
    try:
        response = c.post("/sim/new", json={"template": "checkout"})
        assert response.status_code == 201, response.text
        doc = response.json()
        assert doc["warnings"] == [
            "plugin 'broken-preview': flowtime_render_preview failed: RuntimeError: the layout "
            "engine fell over; the model is stored without a preview"
        ]
        catalog = c.get(doc["catalog_url"]).json()["catalog"]
        assert sorted(catalog["files"]) == ["model.yaml"]
    finally:
        c.close()
        ft.close()


class BrokenResolver:
    @hookimpl(tryfirst=True)
    def flowtime_resolve_parameters(self, template: object, sources: object) -> None:
        raise RuntimeError("the resolver fell over")


def test_a_failing_plugin_is_a_500_problem_naming_it(artifacts_root: object) -> None:
    host = create_plugin_host()
    host.register(BrokenResolver(), "broken-resolver")
    ft = Flowtime(host=host, root=str(artifacts_root), owner="me")
    c = Client(create_app(ft, tokens_file=""))
    try:
        doc = problem(c.post("/sim/new", json={"template": "checkout"}), 500)
        assert doc["detail"] == (
            "a plugin failed: plugin 'broken-resolver': "
            "flowtime_resolve_parameters failed: RuntimeError: the resolver "
            "fell over"
        )
    finally:
        c.close()
        ft.close()
