"""The listing index: SQLite beside the root, always rebuildable from the catalogs.

A writer records the folder it is about to publish in ``pending`` first and adds the listing
row after publication. A crash in between leaves a pending key behind; the next reader settles
it (:meth:`flowtime_sim.registry.store.Registry.settle`): if the folder is visible, its stored
catalog is indexed, otherwise the key is dropped once it is old. So the listing matches a full
rebuild from the files without any reader ever trusting a writer that died.

The file is only a cache, so it is never repaired in place: a new index is built complete
(WAL mode, schema) under a temporary name and linked into place with ``link(2)``, which fails
when the name exists. Many processes opening a new root at once therefore never race to switch
the journal mode of a shared file, and a damaged file is moved aside and replaced the same way.
Whoever opens an index learns how it was found (:attr:`Index.found`); filling it again is the
registry's business (:mod:`flowtime_sim.registry.heal`).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

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
-- "built": when the rows were last rebuilt from the files (absent: never, the index is empty);
-- "fingerprint": the storage's listing fingerprint those rows are known to match
CREATE TABLE IF NOT EXISTS meta (
  name TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL
) WITHOUT ROWID;
"""
SCHEMA_NAMES = frozenset(re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", SCHEMA))
#: how long opening waits for other processes' locks before giving up
LOCK_WAIT_S = 60.0

F = TypeVar("F", bound=Callable[..., Any])


def is_corrupt(exc: BaseException) -> bool:
    """Whether ``exc`` says the index file is not (or no longer) a usable database, as opposed
    to being busy or misused."""
    return isinstance(exc, sqlite3.DatabaseError) and getattr(exc, "sqlite_errorname", "") in {
        "SQLITE_CORRUPT",
        "SQLITE_NOTADB",
    }


def _healing(method: F) -> F:
    """Run ``method``; when the file turns out to be damaged, replace it with a fresh one, let
    :attr:`Index.on_reset` fill it, and run ``method`` once more."""

    @functools.wraps(method)
    def wrapper(self: Index, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if not is_corrupt(exc) or self._resetting:
                raise
        self.reset()
        return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


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
        if (
            isinstance(value, list)
            and len(value) == 4
            and isinstance(value[0], str)
            and isinstance(value[1], str)
            and isinstance(value[2], str)
            and isinstance(value[3], int)
            and 0 <= value[3] < 2**63
        ):  # SQLite's range
            return value
    except (ValueError, UnicodeDecodeError):
        pass
    raise UserError(
        f"invalid cursor {cursor[:40]!r}; pass the next_cursor of a previous page", field="cursor"
    )


class Index:
    authoritative = False  # a cache of the storage (registry.contracts.Index)

    """The SQLite listing index at ``path``.

    :attr:`found` says how the file was when this process opened it: ``"ready"`` (built from
    the files before), ``"missing"``, ``"empty"`` (never built: a fresh, truncated or foreign
    file) or ``"corrupt"`` (not a database; it was replaced by an empty one). When a damaged
    file is discovered later, the index replaces it the same way and calls :attr:`on_reset`
    (which is expected to rebuild the rows) before retrying the operation.
    """

    def __init__(self, path: Path, *, on_reset: Callable[[Index], None] | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.on_reset = on_reset
        self._resetting = False
        self.replaced = 0
        self.found = "ready"
        if not path.exists():
            self.found = "missing"
        elif path.stat().st_size == 0:
            self.found = "empty"
            _discard(path, path.stat().st_ino)
        self.db = self._connect()
        if self.found == "ready" and self.meta("built") is None:
            self.found = "empty"

    def _connect(self) -> sqlite3.Connection:
        for _ in range(3):
            _create(self.path)
            db = sqlite3.connect(self.path, timeout=LOCK_WAIT_S, isolation_level=None)
            inode = _inode(self.path)
            try:
                _prepare(db)
            except sqlite3.DatabaseError as exc:
                db.close()
                if not is_corrupt(exc):
                    raise
                self.found = "corrupt"
                _discard(self.path, inode)
                continue
            return db
        raise sqlite3.DatabaseError(f"could not open a usable index at {self.path}")

    def reset(self) -> None:
        """Replace a damaged file by an empty index and let :attr:`on_reset` fill it."""
        inode = _inode(self.path)
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        _discard(self.path, inode)
        self.found = "corrupt"
        self.db = self._connect()
        if self.on_reset is not None:
            self._resetting = True
            try:
                self.on_reset(self)
            finally:
                self._resetting = False

    def close(self) -> None:
        self.db.close()

    # -- bookkeeping ----------------------------------------------------------------------

    @_healing
    def meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return str(row[0]) if row else None

    @_healing
    def set_meta(self, name: str, value: str) -> None:
        with self._tx():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))

    @_healing
    def advance_meta(self, name: str, expected: str, value: str) -> None:
        """Set ``name`` to ``value`` only if it is still ``expected``."""
        with self._tx():
            self.db.execute(
                "UPDATE meta SET value=? WHERE name=? AND value=?", (value, name, expected)
            )

    @_healing
    def ids(self, kind: str) -> set[str]:
        """Every indexed id of ``kind`` (model ids, run ids)."""
        return {
            str(r[0])
            for r in self.db.execute("SELECT DISTINCT id FROM artifacts WHERE kind=?", (kind,))
        }

    # -- writing --------------------------------------------------------------------------

    @_healing
    def add(self, catalog: Mapping[str, Any]) -> None:
        """Index a published catalog (idempotent) and clear its pending key."""
        kind = str(catalog["kind"])
        version = int(catalog.get("version") or 0)
        with self._tx():
            self._insert_rows([_row(catalog)], _tag_rows(catalog))
            self.db.execute("DELETE FROM pending WHERE key=?", (artifact_key(catalog),))
            self._relatest(kind, str(catalog["id"]), version)

    @_healing
    def merge(
        self,
        catalogs: Iterable[Mapping[str, Any]],
        removed: Iterable[tuple[str, str, int]],
        *,
        feed: str,
        cursor: str,
    ) -> None:
        """Fold in a batch of changes from a storage's change feed, in one transaction with the
        feed's new ``cursor``: add ``catalogs`` (idempotent), then forget the ``removed``
        ``(kind, id, version)`` rows."""
        with self._tx():
            for catalog in catalogs:
                self._insert_rows([_row(catalog)], _tag_rows(catalog))
                self._relatest(
                    str(catalog["kind"]), str(catalog["id"]), int(catalog.get("version") or 0)
                )
            for kind, artifact_id, version in removed:
                self._forget(kind, artifact_id, version)
            self.db.execute("INSERT OR REPLACE INTO feeds VALUES (?, ?)", (feed, cursor))

    @_healing
    def feed_cursor(self, feed: str) -> str | None:
        """Where :meth:`merge` left ``feed``; ``None`` before its first batch."""
        row = self.db.execute("SELECT cursor FROM feeds WHERE name=?", (feed,)).fetchone()
        return str(row[0]) if row else None

    @_healing
    def remove(self, kind: str, artifact_id: str, version: int) -> None:
        """Forget one row (soft delete); the newest remaining version becomes the latest."""
        with self._tx():
            self._forget(kind, artifact_id, version)

    def _forget(self, kind: str, artifact_id: str, version: int) -> None:
        self.db.execute(
            "DELETE FROM artifacts WHERE kind=? AND id=? AND version=?",
            (kind, artifact_id, version),
        )
        self.db.execute(
            "DELETE FROM tags WHERE kind=? AND id=? AND version=?", (kind, artifact_id, version)
        )
        newest = self.db.execute(
            "SELECT MAX(version) FROM artifacts WHERE kind=? AND id=?", (kind, artifact_id)
        ).fetchone()[0]
        if newest is not None:
            self._relatest(kind, artifact_id, newest)

    @_healing
    def begin(self, key: str, now: float) -> None:
        with self._tx():
            self.db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?)", (key, now))

    @_healing
    def end(self, key: str) -> None:
        with self._tx():
            self.db.execute("DELETE FROM pending WHERE key=?", (key,))

    @_healing
    def pending(self) -> list[tuple[str, float]]:
        return list(self.db.execute("SELECT key, started FROM pending"))

    def _relatest(self, kind: str, artifact_id: str, version: int) -> None:
        newest = self.db.execute(
            "SELECT MAX(version) FROM artifacts WHERE kind=? AND id=?", (kind, artifact_id)
        ).fetchone()[0]
        if newest == version:
            self.db.execute(
                "UPDATE artifacts SET latest=(version=?) WHERE kind=? AND id=?",
                (version, kind, artifact_id),
            )

    def _tx(self) -> Any:
        return _Transaction(self.db)

    def rebuild(
        self,
        catalogs: Callable[[], Iterable[Mapping[str, Any]]],
        *,
        fingerprint: str | None = None,
        unless: Callable[[Index], bool] | None = None,
        left_out: Mapping[str, str] | None = None,
        forget_feeds: bool = False,
    ) -> int | None:
        """Replace every row with ``catalogs()`` in one transaction (readers see old or new)
        and record the storage ``fingerprint`` they match and the folder keys ``catalogs()``
        ``left_out`` (filled while it runs). ``unless`` is asked inside the transaction first:
        when it is true (another process has just rebuilt), nothing is done and ``None``
        returned. ``forget_feeds`` makes change feeds replay from their start. Pending keys
        stay: their writers may still be running. :attr:`replaced` is then how many rows
        there were before."""
        count = 0
        with self._tx():
            if unless is not None and unless(self):
                return None
            self.replaced = int(self.db.execute("SELECT COUNT(*) FROM artifacts").fetchone()[0])
            self.db.execute("DELETE FROM artifacts")
            self.db.execute("DELETE FROM tags")
            if forget_feeds:
                self.db.execute("DELETE FROM feeds")
            rows: list[tuple[Any, ...]] = []
            tag_rows: list[tuple[Any, ...]] = []
            for c in catalogs():
                rows.append(_row(c))
                tag_rows += _tag_rows(c)
                count += 1
                if len(rows) >= 5000:
                    self._insert_rows(rows, tag_rows)
                    rows, tag_rows = [], []
            self._insert_rows(rows, tag_rows)
            self.db.execute(
                "UPDATE artifacts SET latest = (version = (SELECT MAX(version) FROM "
                "artifacts a WHERE a.kind=artifacts.kind AND a.id=artifacts.id))"
            )
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('built', ?)",
                (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),),
            )
            if fingerprint is not None:
                self.db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fingerprint,)
                )
            else:
                self.db.execute("DELETE FROM meta WHERE name='fingerprint'")
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('left_out', ?)",
                (json.dumps(sorted(left_out or ())),),
            )
        return count

    def _insert_rows(self, rows: list[Any], tag_rows: list[Any]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO artifacts (kind, id, version, name, template_id, model_id,"
            " owner, visibility, created_utc, tags, search, latest, state, catalog)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,0,'visible',?)",
            rows,
        )
        self.db.executemany("INSERT OR IGNORE INTO tags VALUES (?,?,?,?)", tag_rows)

    # -- reading --------------------------------------------------------------------------

    @_healing
    def query(self, q: Query) -> Page:
        where = ["state='visible'"]
        args: list[Any] = []
        if not q.all_versions:
            where.append("latest=1")
        for column, value in (
            ("kind", q.kind),
            ("template_id", q.template),
            ("owner", q.owner),
            ("model_id", q.model_id),
        ):
            if value is not None:
                where.append(f"{column}=?")
                args.append(value)
        for tag in q.tags:
            where.append(
                "EXISTS (SELECT 1 FROM tags t WHERE t.tag=? AND t.kind=artifacts.kind"
                " AND t.id=artifacts.id AND t.version=artifacts.version)"
            )
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
            [*page_args, q.limit + 1],
        ).fetchall()
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        items = [json.loads(r[4]) for r in rows]
        cursor = encode_cursor(rows[-1][:4]) if more and rows else None
        return Page(items, int(total), cursor)

    @_healing
    def get(self, kind: str, artifact_id: str, version: int | None = None) -> dict[str, Any] | None:
        if version is None:
            row = self.db.execute(
                "SELECT catalog FROM artifacts WHERE kind=? AND id=? AND "
                "state='visible' ORDER BY version DESC LIMIT 1",
                (kind, artifact_id),
            ).fetchone()
        else:
            row = self.db.execute(
                "SELECT catalog FROM artifacts WHERE kind=? AND id=? AND "
                "version=? AND state='visible'",
                (kind, artifact_id, version),
            ).fetchone()
        return json.loads(row[0]) if row else None

    @_healing
    def listing_snapshot(self) -> list[tuple[Any, ...]]:
        """Every visible row's identity and catalog, for comparing an index with a rebuild."""
        return list(
            self.db.execute(
                "SELECT kind, id, version, latest, catalog FROM artifacts WHERE state='visible' "
                "ORDER BY kind, id, version"
            )
        )


def artifact_key(catalog: Mapping[str, Any]) -> str:
    """The storage folder of a catalog: ``models/{id}/v{n}``, ``runs/{id}`` or
    ``sweeps/{id}``."""
    if catalog["kind"] in {"run", "sweep"}:
        return f"{catalog['kind']}s/{catalog['id']}"
    return f"models/{catalog['id']}/v{catalog['version']}"


def _row(c: Mapping[str, Any]) -> tuple[Any, ...]:
    tags = list(c.get("tags") or [])
    words = [str(c.get(k) or "") for k in ("id", "name", "template_id", "model_id")] + tags
    return (
        c["kind"],
        c["id"],
        int(c.get("version") or 0),
        c.get("name"),
        c.get("template_id"),
        c.get("model_id"),
        c.get("owner"),
        c.get("visibility"),
        c["created_utc"],
        json.dumps(tags),
        " ".join(words).lower(),
        json.dumps(c, ensure_ascii=False),
    )


def _tag_rows(c: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [(t, c["kind"], c["id"], int(c.get("version") or 0)) for t in c.get("tags") or []]


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
            return
        with contextlib.suppress(sqlite3.Error):  # a damaged file may refuse even that
            self.db.execute("ROLLBACK")


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[None]:
    """Hold the right to put a new file at ``path``. SQLite pairs ``path-wal`` with whatever
    file is called ``path``, so removing a dead file's WAL and linking a new file in must not
    interleave with another process doing the same; everything else goes through SQLite."""
    try:
        import fcntl
    except ImportError:  # not POSIX: one process per index is the best this can promise
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _drop_wal(path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _create(path: Path) -> None:
    """Make ``path`` a complete, empty index unless a file is there: built under a private name,
    then linked into place (``link(2)`` never replaces an existing name)."""
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.new")
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        finally:
            db.close()
        with _replacing(path):
            if not path.exists():
                _drop_wal(path)  # left by a file deleted by hand: it belongs to no database
                os.link(tmp, path)
    finally:
        for name in (tmp.name, f"{tmp.name}-wal", f"{tmp.name}-shm"):
            (tmp.parent / name).unlink(missing_ok=True)


def _discard(path: Path, inode: int | None) -> None:
    """Move a damaged index (the file with ``inode``) out of the way with its WAL files. When
    another process has replaced it already, its replacement is left alone."""
    with _replacing(path):
        if inode is not None and _inode(path) != inode:
            return
        trash = path.with_name(f".{path.name}.{secrets.token_hex(6)}.damaged")
        try:
            os.rename(path, trash)
        except FileNotFoundError:
            return
        _drop_wal(path)
        trash.unlink(missing_ok=True)


def _prepare(db: sqlite3.Connection) -> None:
    """Check that ``db`` is an index (raising a corruption error when it is not a database),
    switching an old or foreign file to WAL and adding missing tables, waiting out locks."""
    mode = str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    db.execute("PRAGMA synchronous=NORMAL")
    have = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master")}
    if mode != "wal":
        _patiently(lambda: db.execute("PRAGMA journal_mode=WAL"))
    if not have >= SCHEMA_NAMES:
        _patiently(lambda: db.executescript(SCHEMA))


def _patiently(step: Callable[[], object]) -> None:
    """Run ``step``, retrying while another process holds a lock SQLite will not wait for
    (switching the journal mode returns "locked" at once instead of waiting)."""
    deadline = time.monotonic() + LOCK_WAIT_S
    delay = 0.005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
