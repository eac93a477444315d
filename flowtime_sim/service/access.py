"""Every read and write the service makes, with the caller's visibility enforced.

Routes and the page go through :class:`Access` only, so no read path can forget the rule:
an artifact the caller may not see answers exactly like one that does not exist (404), and
error messages list only what the caller may see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flowtime_sim.errors import ConflictError, ModelError, NotFoundError, UserError
from flowtime_sim.ids import ArtifactRef, parse_ref
from flowtime_sim.service.identity import Caller
from flowtime_sim.service.problems import ServiceProblem

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.registry import Created, ModelArtifact, Page, Query, RunArtifact

FILE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def checked_ref(text: str, *, field: str, what: str, allow_version: bool = True) -> ArtifactRef:
    """An id from a URL or a body, checked against the id grammar before any path is built;
    anything else is a 422 naming ``field``."""
    try:
        return parse_ref(text, what=what, allow_version=allow_version)
    except UserError as exc:
        raise ServiceProblem(422, str(exc), field=field) from None


class Access:
    """The façade as one caller sees it."""

    def __init__(self, flowtime: Flowtime, caller: Caller) -> None:
        self.ft = flowtime
        self.caller = caller

    # -- reading --------------------------------------------------------------------------

    def versions(self, model_id: str, *, field: str = "model_id") -> list[ModelArtifact]:
        """The versions of ``model_id`` the caller may see, oldest first (404 when none)."""
        try:
            found = self.ft.versions(model_id)
        except NotFoundError:
            found = []
        visible = [v for v in found if self.caller.can_see(v.catalog)]
        if not visible:
            raise NotFoundError(
                f"no model {model_id!r} here; list models with GET /v1/artifacts?kind=model",
                field=field,
            )
        return visible

    def model(self, ref: ArtifactRef, *, field: str = "model_id") -> ModelArtifact:
        """A visible version: ``ref``'s, or the newest the caller may see."""
        visible = self.versions(ref.id, field=field)
        if ref.version is None:
            return visible[-1]
        for art in visible:
            if art.version == ref.version:
                return art
        have = ", ".join(f"v{v.version}" for v in visible)
        raise NotFoundError(
            f"model {ref.id} has no version {ref.version} (versions: {have})", field=field
        )

    def artifact(self, ref: ArtifactRef, *, field: str = "id") -> ModelArtifact | RunArtifact:
        """A run (``ID``) or a visible model version (``ID[@vN]``)."""
        try:
            art = self.ft.artifact(str(ref))
        except NotFoundError:
            art = None
        is_model = art.catalog.get("kind") == "model" if art else ref.version is not None
        if is_model:
            return self.model(ref, field=field)  # with messages naming only visible versions
        if art is None or not self.caller.can_see(art.catalog):
            raise NotFoundError(
                f"no artifact {str(ref)!r} here; list artifacts with GET /v1/artifacts", field=field
            )
        return art

    def read_file(self, art: ModelArtifact | RunArtifact, name: str) -> bytes:
        """A file of a visible artifact; ``name`` must be ``catalog.json`` or a listed file."""
        listed = sorted([*art.catalog.get("files", {}), "catalog.json"])
        if not FILE_NAME_RE.fullmatch(name) or name not in listed:
            raise NotFoundError(
                f"{art.id} has no file {name[:130]!r}; files: {', '.join(listed)}", field="name"
            )
        return self.ft.read_file(art, name)

    def listing(self, query: Query) -> Page:
        """A page of the registry listing, filtered to what the caller may see."""
        return self.ft.list(replace(query, viewer=self.caller.viewer))

    def runs_of(self, model_id: str, limit: int = 200) -> list[dict[str, Any]]:
        from flowtime_sim.registry import Query

        return self.listing(Query(kind="run", model_id=model_id, limit=limit)).items

    # -- writing --------------------------------------------------------------------------

    def create_model(
        self,
        template: str,
        parameters: Mapping[str, Any],
        *,
        name: str | None,
        tags: Iterable[str],
        version: str | None,
        visibility: str | None,
    ) -> Created:
        from flowtime_sim.types import ParameterSources

        created = self.ft.create_model(
            template,
            ParameterSources(sets=dict(parameters)),
            name=name,
            tags=tags,
            version=version,
            visibility=visibility,
            owner=self.caller.identity,
            admit=self._admit,
        )
        return self._visible(created)

    def derive(
        self,
        source: ArtifactRef,
        *,
        name: str,
        parameters: Mapping[str, Any],
        tags: Iterable[str],
        visibility: str | None,
    ) -> Created:
        art = self.model(source, field="from")
        created = self.ft.derive(
            art.ref,
            name=name,
            sets=dict(parameters),
            tags=tags,
            visibility=visibility,
            owner=self.caller.identity,
            admit=self._admit,
        )
        return self._visible(created)

    def run_model(self, ref: ArtifactRef, *, seed: int | None, mode: str) -> Created:
        art = self.model(ref)
        return self._visible(
            self.ft.run_model(art.ref, seed=seed, mode=mode, owner=self.caller.identity)
        )

    def run_text(
        self, text: str, *, name: str, seed: int | None, mode: str, visibility: str | None
    ) -> Created:
        try:
            created = self.ft.run_text(
                text,
                name=name,
                seed=seed,
                mode=mode,
                visibility=visibility,
                owner=self.caller.identity,
            )
        except ModelError as exc:
            exc.field = f"model.{exc.field}" if exc.field else "model"  # the body's field
            raise
        return self._visible(created)

    def _admit(self, model_id: str) -> None:
        """Refuse to add a version under an id whose versions the caller cannot all see:
        the listing shows a model's newest version, which would hide the owner's own."""
        try:
            stored = self.ft.versions(model_id)
        except NotFoundError:
            return
        if not all(self.caller.can_see(v.catalog) for v in stored):
            raise ConflictError(
                f"the model id {model_id} is already used by a model you "
                "cannot see; choose another name",
                field="name",
            )

    def _visible(self, created: Created) -> Created:
        """An existing artifact handed back as "unchanged" must be visible to the caller."""
        catalog = created.artifact.catalog
        if self.caller.can_see(catalog):
            return created
        if catalog["kind"] == "model":
            raise ConflictError(
                f"model {catalog['id']} already exists and belongs to someone "
                "whose artifacts you cannot see; choose another name",
                field="name",
            )
        taken = (
            f"run {catalog['id']} already exists and belongs to someone whose artifacts "
            "you cannot see"
        )
        if catalog.get("mode") == "sample":
            raise ConflictError(f"{taken}; run with another seed", field="seed")
        # the seed is no part of an expected-mode run's identity (SPEC 8): no seed avoids it
        raise ConflictError(
            f"{taken}; an expected-mode run does not depend on the seed: ask "
            "its owner to share the model's runs, or run in sample mode",
            field="mode",
        )
