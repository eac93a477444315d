"""The registry: model versions and runs in a storage root, with the listing index."""

from __future__ import annotations

import builtins
import json
import re
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flowtime_sim.canonical import canonical_hash, file_hash
from flowtime_sim.errors import ConflictError, DamagedArtifactError, IntegrityError, NotFoundError
from flowtime_sim.ids import ArtifactRef, check_id, slugify
from flowtime_sim.registry import heal, integrity, ledger
from flowtime_sim.registry import visibility as visibility_rule
from flowtime_sim.registry.catalog import (
    SCHEMA_VERSION,
    Created,
    ModelArtifact,
    RunArtifact,
    dump_catalog,
    generator,
    utc_now,
    validate_catalog,
)
from flowtime_sim.registry.index import Index, Page, Query, artifact_key
from flowtime_sim.rendering import render_preview

if TYPE_CHECKING:
    from flowtime_sim.plugins import PluginHost
    from flowtime_sim.rendering import RenderedModel
    from flowtime_sim.storage import Storage

VERSION_RE = re.compile(r"^v([1-9][0-9]*)$")
TOMBSTONES = "tombstones"  # tombstones/{models/{id}/v{n} | runs/{id}}: soft-deleted
PENDING_GRACE_S = 3600.0
MAX_PUBLISH_ATTEMPTS = 1000
VERSION_CACHE_SIZE = 4096  # model-version catalogs kept in memory (about 2.5 KB each)


def model_identity(template_id: str, parameters: Mapping[str, Any]) -> str:
    """Hash of what makes a model this model (template version deliberately excluded)."""
    return canonical_hash({"template_id": template_id, "parameters": parameters})


def inputs_hash(template_id: str, template_version: str, parameters: Mapping[str, Any]) -> str:
    return canonical_hash({"template_id": template_id, "template_version": template_version,
                           "parameters": parameters})


def model_hash(text: str) -> str:
    """Canonical hash of the parsed model YAML (formatting and comments do not count)."""
    from flowtime_sim.model import load_model_document

    return canonical_hash(load_model_document(text))


def model_id_for(name: str, template_id: str, parameters: Mapping[str, Any],
                 identity: str | None = None) -> str:
    """``{slug}_{h8}``; ``identity`` is :func:`model_identity`, when the caller has it."""
    identity = identity or model_identity(template_id, parameters)
    return check_id(f"{slugify(name)}_{identity.removeprefix('sha256:')[:8]}", what="model id")


class Registry:
    """Everything stored under one root. Correctness comes from the storage's atomic,
    no-clobber publication — never from locks; the index is a rebuildable cache."""

    def __init__(self, storage: Storage, host: PluginHost) -> None:
        self.storage = storage
        self.host = host
        self._versions_seen: dict[str, dict[str, Any]] = {}

    @cached_property
    def index(self) -> Index:
        """The listing index, rebuilt first when it is missing, empty, corrupt or out of date
        (:mod:`flowtime_sim.registry.heal`)."""
        index = heal.open_index(self)
        self._settle(index)
        return index

    def close(self) -> None:
        if "index" in self.__dict__:
            self.index.close()

    # -- creating -------------------------------------------------------------------------

    def create_model(self, rendered: RenderedModel, *, name: str | None = None,
                     tags: list[str] | None = None, visibility: str | None = None,
                     owner: str, derived_from: str | None = None) -> Created:
        """Publish ``rendered`` as the next version of its model id (or return the version
        with the same inputs). ``visibility`` defaults to the newest version's, and may not
        hide the model from anyone who sees a stored version
        (:mod:`flowtime_sim.registry.visibility`)."""
        tpl = rendered.template
        params = dict(rendered.parameters.values)
        display = name or tpl.id
        identity = model_identity(tpl.id, params)
        mid = model_id_for(display, tpl.id, params, identity)
        wanted = inputs_hash(tpl.id, tpl.version, params)
        text = rendered.text.encode("utf-8")
        files: dict[str, bytes] = {"model.yaml": text}
        preview = render_preview(self.host, rendered.model, display)
        if preview is not None:
            files[preview.filename] = preview.content
        base: dict[str, Any] = {
            "kind": "model", "id": mid, "version": 0, "name": display,
            "created_utc": "", "schema_version": SCHEMA_VERSION,
            "template_id": tpl.id, "template_version": tpl.version,
            "pack": tpl.pack.as_dict() if tpl.pack else {"name": tpl.plugin, "version": "0"},
            "parameters": params,
            "topology": {"nodes": [{"id": n.id, "kind": n.kind} for n in rendered.model.nodes],
                         "edges": [{"from": a, "to": b} for a, b in rendered.model.edges]},
            "capabilities": list(tpl.manifest.capabilities),
            "tags": _unique([*tpl.manifest.tags, *(tags or [])]),
            "source": "sim", "inputs_hash": wanted, "model_hash": canonical_hash(rendered.document),
            "files": {k: file_hash(v) for k, v in sorted(files.items())},
        }
        if derived_from:
            base["derived_from"] = derived_from
        base.update(owner=owner, visibility=visibility or "private", generator=generator())
        for _ in range(MAX_PUBLISH_ATTEMPTS):
            numbers, deleted = self._version_numbers(mid)
            versions = self._load_versions(mid, [n for n in numbers if n not in deleted])
            for existing in reversed(versions):
                if model_identity(existing.catalog["template_id"],
                                  existing.catalog["parameters"]) != identity:
                    raise ConflictError(
                        f"model id {mid} is already taken by a different model (a hash-prefix "
                        f"collision with {existing.ref}); choose another --name")
                if existing.catalog["inputs_hash"] == wanted:
                    return Created(existing, unchanged=True, root=self.storage.url)
            # deleted and purged versions keep their numbers: a tombstone outlives its files
            n = max([*numbers, *deleted], default=0) + 1
            seen_by = visibility_rule.for_new_version(visibility, owner,
                                                      [v.catalog for v in versions])
            catalog = {**base, "version": n, "created_utc": utc_now(), "visibility": seen_by}
            validate_catalog(catalog)
            key = f"models/{mid}/v{n}"
            if self._publish(key, {**files, "catalog.json": dump_catalog(catalog)}, catalog):
                artifact = ModelArtifact(catalog, key)
                self._announce(artifact)
                return Created(artifact, unchanged=False, root=self.storage.url)
        raise ConflictError(f"could not publish a version of {mid} after "
                            f"{MAX_PUBLISH_ATTEMPTS} attempts; too many concurrent writers")

    def publish_run(self, catalog: dict[str, Any], files: Mapping[str, bytes]) -> Created:
        """Publish a run folder; an existing run with the same id is returned unchanged."""
        key = f"runs/{catalog['id']}"
        for _ in range(2):
            existing = self._catalog_at(key)
            if existing is not None:
                if existing.get("inputs_hash") != catalog["inputs_hash"]:
                    raise ConflictError(f"run id {catalog['id']} is already taken by a different "
                                        "run (a hash-prefix collision)")
                return Created(RunArtifact(existing, key), unchanged=True, root=self.storage.url)
            validate_catalog(catalog)
            if self._publish(key, {**files, "catalog.json": dump_catalog(catalog)}, catalog):
                artifact = RunArtifact(catalog, key)
                self._announce(artifact)
                return Created(artifact, unchanged=False, root=self.storage.url)
        raise ConflictError(f"run {catalog['id']} could not be published")

    def _publish(self, key: str, files: Mapping[str, bytes], catalog: dict[str, Any]) -> bool:
        """Publish the folder ``key``, record its catalog in the ledger and index it; ``False``
        when another writer published ``key`` first."""
        self.index.begin(key, time.time())
        with heal.own_change(self):
            ok = self.storage.publish(key, files)
            if ok:
                ledger.record(self.storage, key, files["catalog.json"])
                self.index.add(catalog)
        if not ok:
            self.index.end(key)
        return ok

    def _announce(self, artifact: ModelArtifact | RunArtifact) -> None:
        import warnings

        for impl in self.host.hook.flowtime_artifact_created.get_hookimpls():
            try:
                impl.function(artifact=artifact)
            except Exception as exc:  # the artifact is published; a listener cannot undo it
                warnings.warn(f"plugin {impl.plugin_name!r}: flowtime_artifact_created failed: "
                              f"{exc}", RuntimeWarning, stacklevel=2)

    # -- reading --------------------------------------------------------------------------

    def _catalog_at(self, key: str) -> dict[str, Any] | None:
        """The catalog of the folder ``key``: ``None`` when there is no such folder,
        :class:`DamagedArtifactError` naming the file when it cannot be used."""
        return integrity.read_catalog(self.storage, key)

    def _version_numbers(self, model_id: str) -> tuple[list[int], set[int]]:
        """Every stored version number of ``model_id`` and the soft-deleted ones among them."""
        def numbers(prefix: str) -> list[int]:
            return sorted(int(m.group(1)) for name in self.storage.children(prefix)
                          if (m := VERSION_RE.match(name)))

        return numbers(f"models/{model_id}"), set(numbers(f"{TOMBSTONES}/models/{model_id}"))

    def _version_catalog(self, key: str) -> dict[str, Any] | None:
        """The catalog of the model version at ``key`` (``models/{id}/v{n}``). A published
        version never changes and its number is never reused, so what was read once is
        kept; whether it was deleted since is asked of the storage every time."""
        catalog = self._versions_seen.get(key)
        if catalog is None:
            catalog = self._catalog_at(key)
            if catalog is not None:
                if len(self._versions_seen) >= VERSION_CACHE_SIZE:
                    del self._versions_seen[next(iter(self._versions_seen))]
                self._versions_seen[key] = catalog
        return catalog

    def _load_versions(self, model_id: str, numbers: list[int]) -> list[ModelArtifact]:
        out = []
        for n in numbers:
            catalog = self._version_catalog(f"models/{model_id}/v{n}")
            if catalog is not None:
                out.append(ModelArtifact(catalog, f"models/{model_id}/v{n}"))
        return out

    def _stored_versions(self, model_id: str) -> list[ModelArtifact]:
        numbers, deleted = self._version_numbers(model_id)
        return self._load_versions(model_id, [n for n in numbers if n not in deleted])

    def versions(self, model_id: str) -> list[ModelArtifact]:
        versions = self._stored_versions(check_id(model_id, what="model id"))
        if not versions:
            raise NotFoundError(f"no model {model_id!r} in {self.storage.url}; see "
                                "'flowtime-sim list'", field="id")
        return versions

    def model(self, ref: ArtifactRef) -> ModelArtifact:
        if ref.version is None:
            return self.versions(ref.id)[-1]
        key = f"models/{ref.id}/v{ref.version}"
        catalog = None if self._deleted(key) else self._version_catalog(key)
        if catalog is None:
            have = ", ".join(f"v{v.version}" for v in self.versions(ref.id))
            raise NotFoundError(f"model {ref.id} has no version {ref.version} "
                                f"(versions: {have})", field="id")
        return ModelArtifact(catalog, f"models/{ref.id}/v{ref.version}")

    def run(self, run_id: str) -> RunArtifact:
        key = f"runs/{check_id(run_id, what='run id')}"
        catalog = None if self._deleted(key) else self._catalog_at(key)
        if catalog is None:
            raise NotFoundError(f"no run {run_id!r} in {self.storage.url}", field="id")
        return RunArtifact(catalog, key)

    def artifact(self, ref: ArtifactRef) -> ModelArtifact | RunArtifact:
        """A model (``ID[@vN]``) or a run (``ID``) by id."""
        if ref.version is None and self.storage.exists(f"runs/{ref.id}") \
                and not self._deleted(f"runs/{ref.id}"):
            return self.run(ref.id)
        return self.model(ref)

    def read_file(self, artifact: ModelArtifact | RunArtifact, name: str) -> bytes:
        if name not in artifact.catalog["files"] and name != "catalog.json":
            raise NotFoundError(f"{artifact.id} has no file {name!r}; files: "
                                f"{', '.join(sorted(artifact.catalog['files']))}, catalog.json",
                                field="name")
        return self.storage.read(f"{artifact.key}/{name}")

    def runs_of(self, model_id: str) -> list[dict[str, Any]]:
        self.refresh()
        return self.index.query(Query(kind="run", model_id=model_id, limit=1000)).items

    def list(self, query: Query) -> Page:
        """A page of the listing. Items whose stored catalog has become unreadable since they
        were indexed are left out, each with a warning on stderr."""
        heal.check(self, self.index)
        self.refresh()
        page = self.index.query(query)
        usable = [item for item in page.items if self._still_readable(item)]
        if len(usable) == len(page.items):
            return page
        return Page(usable, page.total, page.next_cursor, page.extra)

    def _still_readable(self, item: dict[str, Any]) -> bool:
        key = artifact_key(item)
        try:
            self._version_catalog(key)
        except DamagedArtifactError as exc:
            heal.notice(f"warning: skipped {key}: its catalog.json is {exc.why} (see "
                        "'flowtime-sim verify')")
            return False
        return True

    def refresh(self) -> None:
        """Fold what other machines published or deleted into the index, for storages that
        keep a change feed: an optional ``changes_since(cursor) -> (changes, next_cursor)``
        returning ``(key, bytes)`` of each ``…/catalog.json`` published and each file put with
        ``put_if_absent`` since ``cursor`` (``None``: from the beginning). Storages without one
        (a local folder) are only written through this index or rebuilt by ``reindex``."""
        feed = getattr(self.storage, "changes_since", None)
        if feed is None:
            return
        index = self.index
        changes, cursor = feed(index.feed_cursor("storage"))
        stones = {key.removeprefix(f"{TOMBSTONES}/") for key, _ in changes
                  if key.startswith(f"{TOMBSTONES}/")}
        catalogs = []
        for key, data in changes:
            folder = key.removesuffix("/catalog.json")
            if folder == key or folder in stones or key.startswith(f"{TOMBSTONES}/"):
                continue
            try:
                catalogs.append(json.loads(data))
            except ValueError:
                continue  # verify reports unreadable catalogs; the listing skips them
        removed = [ident for key in stones if (ident := _identity(key)) is not None]
        index.merge(catalogs, removed, feed="storage", cursor=cursor)

    # -- maintenance ----------------------------------------------------------------------

    def _settle(self, index: Index) -> None:
        """Finish what writers that died mid-publication left pending: a folder that became
        visible is recorded in the ledger and indexed; one that never did is forgotten."""
        now = time.time()
        for key, started in index.pending():
            try:
                raw = self.storage.read(f"{key}/catalog.json")
                catalog = integrity.parse_catalog(key, raw)
            except KeyError:
                if now - started > PENDING_GRACE_S:
                    index.end(key)
                continue
            except DamagedArtifactError:
                index.end(key)  # verify names it; the listing leaves it out
                continue
            ledger.record(self.storage, key, raw)
            if ledger.check(self.storage, key, raw) is None:
                index.add(catalog)
            else:
                index.end(key)

    def reindex(self, *, refused: builtins.list[str] | None = None) -> int:
        """Rebuild the listing index from the stored catalogs; returns how many were indexed.
        A catalog that is unreadable or differs from its ledger record is not indexed: what
        is wrong with it is appended to ``refused``, one line each."""
        left_out: dict[str, str] = {}
        deleted = set(self._tombstones())

        def catalogs() -> Iterator[dict[str, Any]]:
            left_out.clear()
            stored = ((key.removesuffix("/catalog.json"), raw)
                      for key, raw in self.storage.walk_catalogs()
                      if key.removesuffix("/catalog.json") not in deleted)
            return integrity.indexable(self.storage, stored, left_out)

        count = heal.rebuild_patiently(self.index, catalogs, fingerprint=heal.fingerprint_of(self),
                                       left_out=left_out)
        if refused is not None:
            refused += [left_out[k] for k in sorted(left_out)]
        return count

    def verify(self) -> tuple[int, builtins.list[str]]:
        """Check every published folder byte by byte against its catalog and the ledger, and
        every ledger record against the folders. Returns (folders checked, problems)."""
        return integrity.verify(self.storage, set(self._tombstones()))

    def verify_or_raise(self) -> int:
        checked, problems = self.verify()
        if problems:
            raise IntegrityError(f"{len(problems)} problem(s) in {self.storage.url}: "
                                 + "; ".join(problems), bad_files=problems)
        return checked

    def gc(self, grace_s: float) -> builtins.list[str]:
        """Remove staging left by crashed writers and purge soft-deleted artifacts, both once
        older than ``grace_s`` seconds. Returns what was removed."""
        removed = self.storage.abandoned_staging(grace_s)
        for name in removed:
            self.storage.remove_staging(name)
        cutoff = time.time() - grace_s
        for key in self._tombstones():
            if not self.storage.exists(key):
                continue  # purged by an earlier gc
            try:
                stone = json.loads(self.storage.read(f"{TOMBSTONES}/{key}"))
                when = datetime.strptime(stone["deleted_utc"], "%Y-%m-%dT%H:%M:%SZ")
            except (KeyError, ValueError, TypeError):
                continue
            if when.replace(tzinfo=UTC).timestamp() <= cutoff:
                self.storage.remove(key)
                # the tombstone stays: a purged version number is never reused
                removed.append(key)
        return removed

    # -- soft delete ----------------------------------------------------------------------

    def _deleted(self, key: str) -> bool:
        return self.storage.exists(f"{TOMBSTONES}/{key}")

    def _tombstones(self) -> Iterator[str]:
        """Keys (``models/{id}/v{n}``, ``runs/{id}``) that carry a tombstone."""
        for model_id in self.storage.children(f"{TOMBSTONES}/models"):
            for version in self.storage.children(f"{TOMBSTONES}/models/{model_id}"):
                yield f"models/{model_id}/{version}"
        for run_id in self.storage.children(f"{TOMBSTONES}/runs"):
            yield f"runs/{run_id}"

    def delete(self, ref: ArtifactRef, *, force: bool = False,
               by: str) -> builtins.list[str]:
        """Hide a run, a model version or (without ``@vN``) every version of a model at once;
        ``gc`` purges the files after its grace period. Refused while runs reference a model
        unless ``force``. Returns the keys hidden."""
        try:
            target = self.artifact(ref)
        except DamagedArtifactError:
            target = None  # delete by folder: a damaged catalog must not keep its artifact
        if isinstance(target, RunArtifact) or (target is None and ref.version is None
                                               and self.storage.exists(f"runs/{ref.id}")):
            keys = [(f"runs/{ref.id}", "run", ref.id, 0)]
        else:
            if ref.version is not None:
                chosen = [ref.version]
            else:
                numbers, deleted = self._version_numbers(ref.id)
                chosen = [n for n in numbers if n not in deleted]
            runs = [r["id"] for r in self.runs_of(ref.id)
                    if ref.version is None or r.get("model_version") == ref.version]
            if runs and not force:
                shown = ", ".join(runs[:5]) + (" ..." if len(runs) > 5 else "")
                raise ConflictError(f"{ref} is referenced by {len(runs)} run(s) ({shown}); "
                                    "delete those first or pass --force")
            keys = [(f"models/{ref.id}/v{n}", "model", ref.id, n) for n in chosen]
        stone = json.dumps({"deleted_utc": utc_now(), "by": by}).encode()
        with heal.own_change(self):
            for key, kind, artifact_id, version in keys:
                self.storage.put_if_absent(f"{TOMBSTONES}/{key}", stone)
                self.index.remove(kind, artifact_id, version)
        return [k for k, *_ in keys]


def _identity(key: str) -> tuple[str, str, int] | None:
    """``(kind, id, version)`` of a folder key ``models/{id}/v{n}`` or ``runs/{id}``."""
    parts = key.split("/")
    if len(parts) == 3 and parts[0] == "models" and (m := VERSION_RE.match(parts[2])):
        return "model", parts[1], int(m.group(1))
    if len(parts) == 2 and parts[0] == "runs":
        return "run", parts[1], 0
    return None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
