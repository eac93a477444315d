"""The listing index: SQLite beside the root, always rebuildable from the catalogs.

A writer records the folder it is about to publish in ``pending`` first and adds the listing
row after publication. A crash in between leaves a pending key behind; the next reader settles
it (:meth:`flowtime_sim.registry.store.Registry.settle`): if the folder is visible, its stored
catalog is indexed, otherwise the key is dropped once it is old. So the listing matches a full
rebuild from the files without any reader ever trusting a writer that died.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowtime_sim.errors import UserError

SCHEMA = """
CREATE TABLE IF NOT EXISTS artifacts (
  kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
  name TEXT, template_id TEXT, model_id TEXT, owner TEXT, visibility TEXT,
  created_utc TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]', search TEXT NOT NULL DEFAULT '',
  latest INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'visible',
  catalog TEXT NOT NULL,
  PRIMARY KEY (kind, id, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS by_time ON artifacts (state, latest, created_utc, kind, id, version);
-- filters first, then the listing order: counting and paging a filter read only the index
CREATE INDEX IF NOT EXISTS by_template_v2 ON artifacts
  (template_id, state, latest, created_utc, kind, id, version);
CREATE INDEX IF NOT EXISTS by_owner_v2 ON artifacts
  (owner, state, latest, created_utc, kind, id, version);
CREATE INDEX IF NOT EXISTS by_kind ON artifacts (kind, state, latest, created_utc, id, version);
CREATE INDEX IF NOT EXISTS by_model ON artifacts (model_id, created_utc);
CREATE TABLE IF NOT EXISTS pending (
  key TEXT NOT NULL PRIMARY KEY, started REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tags (
  tag TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
  PRIMARY KEY (tag, kind, id, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS feeds (
  name TEXT NOT NULL PRIMARY KEY, cursor TEXT NOT NULL
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class Query:
    kind: str | None = None
    template: str | None = None
    tags: Sequence[str] = ()
    owner: str | None = None
    text: str | None = None
    model_id: str | None = None
    all_versions: bool = False
    limit: int = 50
    cursor: str | None = None
    #: visibility filter: (caller, identities sharing a team with the caller), or None when
    #: the caller sees everything
    viewer: tuple[str, frozenset[str]] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None


def encode_cursor(row: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(row)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        if (isinstance(value, list) and len(value) == 4 and isinstance(value[0], str)
                and isinstance(value[1], str) and isinstance(value[2], str)
                and isinstance(value[3], int)):
            return value
    except (ValueError, UnicodeDecodeError):
        pass
    raise UserError(f"invalid cursor {cursor[:40]!r}; pass the next_cursor of a previous page",
                    field="cursor")


class Index:
    authoritative = False  # a cache of the storage (registry.contracts.Index)

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- writing --------------------------------------------------------------------------

    def add(self, catalog: Mapping[str, Any]) -> None:
        """Index a published catalog (idempotent) and clear its pending key."""
        kind = str(catalog["kind"])
        version = int(catalog.get("version") or 0)
        with self._tx():
            self._insert_rows([_row(catalog)], _tag_rows(catalog))
            self.db.execute("DELETE FROM pending WHERE key=?", (artifact_key(catalog),))
            self._relatest(kind, str(catalog["id"]), version)

    def merge(self, catalogs: Iterable[Mapping[str, Any]],
              removed: Iterable[tuple[str, str, int]], *, feed: str, cursor: str) -> None:
        """Fold in a batch of changes from a storage's change feed, in one transaction with the
        feed's new ``cursor``: add ``catalogs`` (idempotent), then forget the ``removed``
        ``(kind, id, version)`` rows."""
        with self._tx():
            for catalog in catalogs:
                self._insert_rows([_row(catalog)], _tag_rows(catalog))
                self._relatest(str(catalog["kind"]), str(catalog["id"]),
                               int(catalog.get("version") or 0))
            for kind, artifact_id, version in removed:
                self._forget(kind, artifact_id, version)
            self.db.execute("INSERT OR REPLACE INTO feeds VALUES (?, ?)", (feed, cursor))

    def feed_cursor(self, feed: str) -> str | None:
        """Where :meth:`merge` left ``feed``; ``None`` before its first batch."""
        row = self.db.execute("SELECT cursor FROM feeds WHERE name=?", (feed,)).fetchone()
        return str(row[0]) if row else None

    def remove(self, kind: str, artifact_id: str, version: int) -> None:
        """Forget one row (soft delete); the newest remaining version becomes the latest."""
        with self._tx():
            self._forget(kind, artifact_id, version)

    def _forget(self, kind: str, artifact_id: str, version: int) -> None:
        self.db.execute("DELETE FROM artifacts WHERE kind=? AND id=? AND version=?",
                        (kind, artifact_id, version))
        self.db.execute("DELETE FROM tags WHERE kind=? AND id=? AND version=?",
                        (kind, artifact_id, version))
        newest = self.db.execute("SELECT MAX(version) FROM artifacts WHERE kind=? AND id=?",
                                 (kind, artifact_id)).fetchone()[0]
        if newest is not None:
            self._relatest(kind, artifact_id, newest)

    def begin(self, key: str, now: float) -> None:
        with self._tx():
            self.db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?)", (key, now))

    def end(self, key: str) -> None:
        with self._tx():
            self.db.execute("DELETE FROM pending WHERE key=?", (key,))

    def pending(self) -> list[tuple[str, float]]:
        return list(self.db.execute("SELECT key, started FROM pending"))

    def _relatest(self, kind: str, artifact_id: str, version: int) -> None:
        newest = self.db.execute("SELECT MAX(version) FROM artifacts WHERE kind=? AND id=?",
                                 (kind, artifact_id)).fetchone()[0]
        if newest == version:
            self.db.execute("UPDATE artifacts SET latest=(version=?) WHERE kind=? AND id=?",
                            (version, kind, artifact_id))

    def _tx(self) -> Any:
        return _Transaction(self.db)

    def rebuild(self, catalogs: Iterable[Mapping[str, Any]]) -> int:
        """Replace every row with ``catalogs`` (one transaction; readers see old or new)."""
        count = 0
        with self._tx():
            self.db.execute("DELETE FROM artifacts")
            self.db.execute("DELETE FROM tags")
            self.db.execute("DELETE FROM pending")
            rows: list[tuple[Any, ...]] = []
            tag_rows: list[tuple[Any, ...]] = []
            for c in catalogs:
                rows.append(_row(c))
                tag_rows += _tag_rows(c)
                count += 1
                if len(rows) >= 5000:
                    self._insert_rows(rows, tag_rows)
                    rows, tag_rows = [], []
            self._insert_rows(rows, tag_rows)
            self.db.execute("UPDATE artifacts SET latest = (version = (SELECT MAX(version) FROM "
                            "artifacts a WHERE a.kind=artifacts.kind AND a.id=artifacts.id))")
        return count

    def _insert_rows(self, rows: list[Any], tag_rows: list[Any]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO artifacts (kind, id, version, name, template_id, model_id,"
            " owner, visibility, created_utc, tags, search, latest, state, catalog)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,0,'visible',?)", rows)
        self.db.executemany("INSERT OR IGNORE INTO tags VALUES (?,?,?,?)", tag_rows)

    # -- reading --------------------------------------------------------------------------

    def query(self, q: Query) -> Page:
        where = ["state='visible'"]
        args: list[Any] = []
        if not q.all_versions:
            where.append("latest=1")
        for column, value in (("kind", q.kind), ("template_id", q.template),
                              ("owner", q.owner), ("model_id", q.model_id)):
            if value is not None:
                where.append(f"{column}=?")
                args.append(value)
        for tag in q.tags:
            where.append("EXISTS (SELECT 1 FROM tags t WHERE t.tag=? AND t.kind=artifacts.kind"
                         " AND t.id=artifacts.id AND t.version=artifacts.version)")
            args.append(tag)
        if q.text:
            where.append("instr(search, ?) > 0")
            args.append(q.text.lower())
        if q.viewer is not None:
            who, teammates = q.viewer
            clause = "visibility='public' OR owner=?"
            args.append(who)
            if teammates:
                clause += f" OR (visibility='team' AND owner IN ({','.join('?' * len(teammates))}))"
                args += sorted(teammates)
            where.append(f"({clause})")
        base = " AND ".join(where)
        total = self.db.execute(f"SELECT COUNT(*) FROM artifacts WHERE {base}", args).fetchone()[0]
        page_where, page_args = base, list(args)
        if q.cursor:
            page_where += " AND (created_utc, kind, id, version) < (?, ?, ?, ?)"
            page_args += decode_cursor(q.cursor)
        rows = self.db.execute(
            f"SELECT created_utc, kind, id, version, catalog FROM artifacts WHERE {page_where} "
            "ORDER BY created_utc DESC, kind DESC, id DESC, version DESC LIMIT ?",
            [*page_args, q.limit + 1]).fetchall()
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        items = [json.loads(r[4]) for r in rows]
        cursor = encode_cursor(rows[-1][:4]) if more and rows else None
        return Page(items, int(total), cursor)

    def get(self, kind: str, artifact_id: str, version: int | None = None) -> dict[str, Any] | None:
        if version is None:
            row = self.db.execute("SELECT catalog FROM artifacts WHERE kind=? AND id=? AND "
                                  "state='visible' ORDER BY version DESC LIMIT 1",
                                  (kind, artifact_id)).fetchone()
        else:
            row = self.db.execute("SELECT catalog FROM artifacts WHERE kind=? AND id=? AND "
                                  "version=? AND state='visible'",
                                  (kind, artifact_id, version)).fetchone()
        return json.loads(row[0]) if row else None

    def listing_snapshot(self) -> list[tuple[Any, ...]]:
        """Every visible row's identity and catalog, for comparing an index with a rebuild."""
        return list(self.db.execute(
            "SELECT kind, id, version, latest, catalog FROM artifacts WHERE state='visible' "
            "ORDER BY kind, id, version"))


def artifact_key(catalog: Mapping[str, Any]) -> str:
    """The storage folder of a catalog: ``models/{id}/v{n}`` or ``runs/{id}``."""
    if catalog["kind"] == "run":
        return f"runs/{catalog['id']}"
    return f"models/{catalog['id']}/v{catalog['version']}"


def _row(c: Mapping[str, Any]) -> tuple[Any, ...]:
    tags = list(c.get("tags") or [])
    words = [str(c.get(k) or "") for k in ("id", "name", "template_id", "model_id")] + tags
    return (c["kind"], c["id"], int(c.get("version") or 0), c.get("name"), c.get("template_id"),
            c.get("model_id"), c.get("owner"), c.get("visibility"), c["created_utc"],
            json.dumps(tags), " ".join(words).lower(), json.dumps(c, ensure_ascii=False))


def _tag_rows(c: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [(t, c["kind"], c["id"], int(c.get("version") or 0)) for t in c.get("tags") or []]


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
