"""The PostgreSQL index: listing rows, version allocation, visibility, deletions and gc state of
roots shared by many machines (SPEC §12).

One table holds a row per version (per run) and root. Its primary key ``(root, kind, id,
version)`` is what allocates versions: two machines reserving the same number race on the
unique constraint and exactly one insert commits. A row goes ``pending`` (reserved, bytes on
their way) → ``visible`` (listed, catalog served from here) → ``deleted`` → ``purged``; a
``pending`` row whose writer crashed becomes ``failed`` in ``gc``. Only the writer that
reserved a row can make it visible, and only while it is still pending, so a writer that comes
back after the sweep can never revive its version.

Connections come from a pool (psycopg 3). A database that is down or does not answer within
the connect timeout (``connect_timeout`` in the URL, default 5 s) turns into
:class:`~flowtime_sim.errors.UnavailableError`; the pool reconnects by itself once it is back.
The same timeout bounds every statement on a connection already open: a server that accepts
connections but stops answering (a stopped process, a full disk) fails a command or a service
request instead of hanging it, and the silent connection is dropped from the pool.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from flowtime_sim.errors import UnavailableError, UserError
from flowtime_sim.registry.contracts import (
    DELETED,
    FAILED,
    PENDING,
    PURGED,
    VISIBLE,
    VersionRow,
    _redacted,
)
from flowtime_sim.registry.index import Page, Query, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

DEFAULT_CONNECT_TIMEOUT_S = 5
POOL_MAX = 8
# rebuilding a root's rows (reindex) is one long transaction; it gets this many timeouts
LONG_STATEMENTS = 20

SCHEMA = """
CREATE TABLE IF NOT EXISTS flowtime_artifacts (
  root TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'visible', 'failed', 'deleted', 'purged')),
  writer TEXT, started TIMESTAMPTZ NOT NULL DEFAULT now(), inputs_hash TEXT,
  name TEXT, template_id TEXT, model_id TEXT, owner TEXT, visibility TEXT,
  created_utc TEXT NOT NULL DEFAULT '', tags TEXT[] NOT NULL DEFAULT '{}',
  search TEXT NOT NULL DEFAULT '', latest BOOLEAN NOT NULL DEFAULT false, catalog TEXT,
  deleted_at TIMESTAMPTZ,
  PRIMARY KEY (root, kind, id, version)
);
CREATE INDEX IF NOT EXISTS flowtime_listing ON flowtime_artifacts
  (root, latest, created_utc DESC, kind DESC, id DESC, version DESC) WHERE state = 'visible';
CREATE INDEX IF NOT EXISTS flowtime_all_versions ON flowtime_artifacts
  (root, created_utc DESC, kind DESC, id DESC, version DESC) WHERE state = 'visible';
CREATE INDEX IF NOT EXISTS flowtime_by_model ON flowtime_artifacts (root, model_id)
  WHERE state = 'visible';
CREATE INDEX IF NOT EXISTS flowtime_tags ON flowtime_artifacts USING gin (tags);
CREATE INDEX IF NOT EXISTS flowtime_unsettled ON flowtime_artifacts (root, started)
  WHERE state IN ('pending', 'failed', 'deleted');
-- how many rows the unfiltered listing has, kept in step with "latest": counting 100,000 index
-- entries on every page would cost more than the page
CREATE TABLE IF NOT EXISTS flowtime_counts (
  root TEXT NOT NULL, kind TEXT NOT NULL, listed BIGINT NOT NULL, PRIMARY KEY (root, kind)
);
"""

log = logging.getLogger(__name__)
# the pool reports every failed reconnection as a warning; a command reports the outage itself
logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)


class PostgresIndex:
    """The rows of one root (``storage_url``) in a PostgreSQL database (``url``)."""

    authoritative = True

    def __init__(self, url: str, storage_url: str) -> None:
        try:
            import psycopg
            import psycopg_pool  # noqa: F401 - checked here, used by _shared_pool
        except ImportError:  # pragma: no cover - the extra is installed in every test run
            raise UserError(
                "the PostgreSQL index needs psycopg: pip install 'flowtime-sim[postgresql]'",
                field="index",
            ) from None
        self._psycopg = psycopg
        self.url = url
        self.root = storage_url
        try:
            params = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise UserError(
                f"invalid index URL {_redacted(url)!r}: {str(exc).strip()}", field="index"
            ) from None
        self.timeout = float(
            params.pop("connect_timeout", DEFAULT_CONNECT_TIMEOUT_S) or DEFAULT_CONNECT_TIMEOUT_S
        )
        self.where = (
            f"{params.get('host', 'localhost')}:{params.get('port', 5432)}/"
            f"{params.get('dbname', '')}"
        )
        self.pool = _shared_pool(url, self.timeout)
        self._schema_ready = False

    def close(self) -> None:
        """Nothing to release: the pool is shared by every registry of this process."""

    @contextlib.contextmanager
    def _conn(self, *, patience: float = 1) -> Iterator[Connection[Any]]:
        """A pooled connection; an unreachable or silent database becomes one clear error.
        Each statement may take ``patience`` connect timeouts."""
        from psycopg_pool import PoolTimeout

        psycopg = self._psycopg
        silent = UnavailableError(
            f"the index database at {self.where} did not answer within {self.timeout:g} s; "
            "check that PostgreSQL is running and reachable, then try again"
        )
        try:
            with self.pool.connection() as conn:
                conn.answer_within = self.timeout * patience  # type: ignore[attr-defined]
                try:
                    if not self._schema_ready:
                        _ensure_schema(conn)
                        self._schema_ready = True
                    yield conn
                finally:
                    conn.answer_within = self.timeout  # type: ignore[attr-defined]
        except PoolTimeout:
            raise silent from None
        except _Silent:
            raise silent from None
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UnavailableError(
                f"the index database at {self.where} failed: {reason}; try again once it is back"
            ) from None

    def connection(self) -> contextlib.AbstractContextManager[Connection[Any]]:
        """A pooled connection to the index's database, for what keeps its own tables beside
        the index (the sweep job queue); an unreachable database is one clear error."""
        return self._conn()

    def visible_ids(self, kind: str, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that have a visible row of ``kind``: one query for many runs."""
        with self._conn() as conn:
            found = conn.execute(
                "SELECT DISTINCT id FROM flowtime_artifacts WHERE root=%s AND kind=%s "
                "AND id = ANY(%s) AND state='visible'",
                (self.root, kind, list(ids)),
            ).fetchall()
        return {str(row[0]) for row in found}

    # -- version allocation -------------------------------------------------------------------

    def rows(self, kind: str, artifact_id: str) -> list[VersionRow]:
        with self._conn() as conn:
            found = conn.execute(
                "SELECT version, state, inputs_hash, catalog FROM flowtime_artifacts "
                "WHERE root=%s AND kind=%s AND id=%s ORDER BY version",
                (self.root, kind, artifact_id),
            ).fetchall()
        return [
            VersionRow(
                kind, artifact_id, int(v), str(s), h, json.loads(c) if c is not None else None, c
            )
            for v, s, h, c in found
        ]

    def reserve(
        self, kind: str, artifact_id: str, version: int, *, writer: str, inputs_hash: str
    ) -> bool:
        with self._conn() as conn:
            taken = conn.execute(
                "INSERT INTO flowtime_artifacts (root, kind, id, version, state, writer, "
                "inputs_hash) VALUES (%s, %s, %s, %s, 'pending', %s, %s) "
                "ON CONFLICT DO NOTHING RETURNING 1",
                (self.root, kind, artifact_id, version, writer, inputs_hash),
            ).fetchone()
            if taken is None and kind == "run":
                # a run id is its inputs: a failed attempt's row is taken over, its bytes gone
                taken = conn.execute(
                    "UPDATE flowtime_artifacts SET state='pending', writer=%s, started=now(), "
                    "deleted_at=NULL, "
                    "inputs_hash=%s WHERE root=%s AND kind=%s AND id=%s AND version=%s AND "
                    "state='failed' RETURNING 1",
                    (writer, inputs_hash, self.root, kind, artifact_id, version),
                ).fetchone()
        return taken is not None

    def mark_visible(
        self, kind: str, artifact_id: str, version: int, *, writer: str, catalog_text: str
    ) -> bool:
        catalog = json.loads(catalog_text)
        with self._conn() as conn, conn.transaction():
            self._lock(conn, kind, artifact_id)
            shown = conn.execute(
                "UPDATE flowtime_artifacts SET state='visible', name=%s, template_id=%s, "
                "model_id=%s, owner=%s, visibility=%s, created_utc=%s, tags=%s, search=%s, "
                "catalog=%s WHERE root=%s AND kind=%s AND id=%s AND version=%s AND "
                "state='pending' AND writer=%s RETURNING 1",
                (*_columns(catalog), catalog_text, self.root, kind, artifact_id, version, writer),
            ).fetchone()
            if shown is not None:
                self._relatest(conn, kind, artifact_id)
        return shown is not None

    def mark_failed(self, kind: str, artifact_id: str, version: int, *, writer: str) -> None:
        with self._conn() as conn:
            conn.execute(
                "UPDATE flowtime_artifacts SET state='failed' WHERE root=%s AND "
                "kind=%s AND id=%s AND version=%s AND state='pending' AND writer=%s",
                (self.root, kind, artifact_id, version, writer),
            )

    def sweep(self, grace_s: float) -> list[str]:
        with self._conn() as conn:
            conn.execute(
                "UPDATE flowtime_artifacts SET state='failed', deleted_at=NULL WHERE root=%s "
                "AND state='pending' AND started < now() - make_interval(secs => %s)",
                (self.root, grace_s),
            )
            # failed rows are looked at until a day after their bytes were first removed: a
            # writer that was swept mid-upload may still put files there for a while
            failed = conn.execute(
                "SELECT kind, id, version FROM flowtime_artifacts WHERE root=%s AND "
                "state='failed' AND (deleted_at IS NULL OR deleted_at > now() - interval "
                "'1 day') ORDER BY kind, id, version",
                (self.root,),
            ).fetchall()
        return [VersionRow(k, i, v, FAILED, None, None).key for k, i, v in failed]

    def mark_swept(self, key: str) -> None:
        kind, artifact_id, version = _identity(key)
        with self._conn() as conn:
            conn.execute(
                "UPDATE flowtime_artifacts SET deleted_at=coalesce(deleted_at, now()) WHERE "
                "root=%s AND kind=%s AND id=%s AND version=%s AND state='failed'",
                (self.root, kind, artifact_id, version),
            )

    def purgeable(self, grace_s: float) -> list[str]:
        with self._conn() as conn:
            found = conn.execute(
                "SELECT kind, id, version FROM flowtime_artifacts WHERE root=%s AND "
                "state='deleted' AND deleted_at <= now() - make_interval(secs => %s) "
                "ORDER BY kind, id, version",
                (self.root, grace_s),
            ).fetchall()
        return [VersionRow(k, i, v, DELETED, None, None).key for k, i, v in found]

    def mark_purged(self, key: str) -> None:
        kind, artifact_id, version = _identity(key)
        with self._conn() as conn:
            conn.execute(
                "UPDATE flowtime_artifacts SET state='purged' WHERE root=%s AND "
                "kind=%s AND id=%s AND version=%s AND state='deleted'",
                (self.root, kind, artifact_id, version),
            )

    # -- the listing ----------------------------------------------------------------------------

    def add(self, catalog: Mapping[str, Any]) -> None:
        """Make a catalog's row visible whatever its state (``reindex`` of one artifact)."""
        self._upsert_visible([catalog])

    def remove(self, kind: str, artifact_id: str, version: int) -> None:
        with self._conn() as conn, conn.transaction():
            self._lock(conn, kind, artifact_id)
            conn.execute(
                "UPDATE flowtime_artifacts SET state='deleted', "
                "deleted_at=now() WHERE root=%s AND kind=%s AND id=%s AND version=%s "
                "AND state='visible'",
                (self.root, kind, artifact_id, version),
            )
            self._relatest(conn, kind, artifact_id)

    def query(self, q: Query) -> Page:
        where = ["root=%s", "state='visible'"]
        args: list[Any] = [self.root]
        if not q.all_versions:
            where.append("latest")
        for column, value in (
            ("kind", q.kind),
            ("template_id", q.template),
            ("owner", q.owner),
            ("model_id", q.model_id),
        ):
            if value is not None:
                where.append(f"{column}=%s")
                args.append(value)
        if q.tags:
            where.append("tags @> %s")
            args.append(list(q.tags))
        if q.text:
            where.append("strpos(search, %s) > 0")
            args.append(q.text.lower())
        if q.viewer is not None:
            who, teammates = q.viewer
            clause = "visibility='public' OR owner=%s"
            args.append(who)
            if teammates:
                clause += " OR (visibility='team' AND owner = ANY(%s))"
                args.append(sorted(teammates))
            where.append(f"({clause})")
        base = " AND ".join(where)
        page_where, page_args = base, list(args)
        if q.cursor:
            page_where += " AND (created_utc, kind, id, version) < (%s, %s, %s, %s)"
            page_args += decode_cursor(q.cursor)
        unfiltered = not (
            q.all_versions
            or q.template
            or q.tags
            or q.owner
            or q.model_id
            or q.text
            or q.viewer is not None
        )
        with self._conn() as conn:
            if unfiltered:  # the kept count: no walk over every listed row
                kinds = [q.kind] if q.kind else ["model", "run"]
                total = conn.execute(
                    "SELECT coalesce(sum(listed), 0) FROM flowtime_counts WHERE root=%s AND "
                    "kind = ANY(%s)",
                    (self.root, kinds),
                ).fetchone()
            else:
                total = conn.execute(
                    f"SELECT count(*) FROM flowtime_artifacts WHERE {base}", args
                ).fetchone()
            rows = conn.execute(
                f"SELECT created_utc, kind, id, version, catalog FROM flowtime_artifacts WHERE "
                f"{page_where} ORDER BY created_utc DESC, kind DESC, id DESC, version DESC "
                "LIMIT %s",
                [*page_args, q.limit + 1],
            ).fetchall()
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        items = [json.loads(r[4]) for r in rows]
        cursor = encode_cursor(rows[-1][:4]) if more and rows else None
        return Page(items, int(total[0]) if total else 0, cursor)

    def get(self, kind: str, artifact_id: str, version: int | None = None) -> dict[str, Any] | None:
        text = self.catalog_text(kind, artifact_id, version)
        return json.loads(text) if text is not None else None

    def catalog_text(self, kind: str, artifact_id: str, version: int | None = None) -> str | None:
        """A visible row's catalog exactly as stored in its ``catalog.json``."""
        sql = (
            "SELECT catalog FROM flowtime_artifacts WHERE root=%s AND kind=%s AND id=%s "
            "AND state='visible'"
        )
        args: list[Any] = [self.root, kind, artifact_id]
        if version is not None:
            sql += " AND version=%s"
            args.append(version)
        with self._conn() as conn:
            row = conn.execute(sql + " ORDER BY version DESC LIMIT 1", args).fetchone()
        return str(row[0]) if row else None

    def listing_snapshot(self) -> list[tuple[Any, ...]]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT kind, id, version, latest, catalog FROM flowtime_artifacts WHERE "
                "root=%s AND state='visible' ORDER BY kind, id, version",
                (self.root,),
            ).fetchall()
        return [(k, i, v, int(latest), c) for k, i, v, latest, c in rows]

    def rebuild(self, catalogs: Iterable[Mapping[str, Any]]) -> int:
        return self.rebuild_from(catalogs, ())

    def rebuild_from(
        self, catalogs: Iterable[Mapping[str, Any]], deleted: Iterable[tuple[str, str, int]]
    ) -> int:
        """One transaction: readers see the old rows or the new ones. Pending rows (writers
        still publishing) stay; a pending row whose catalog is already stored becomes visible."""
        count = 0
        with self._conn(patience=LONG_STATEMENTS) as conn, conn.transaction():
            conn.execute(
                "DELETE FROM flowtime_artifacts WHERE root=%s AND state <> 'pending'", (self.root,)
            )
            pending = {
                (k, i, v)
                for k, i, v in conn.execute(
                    "SELECT kind, id, version FROM flowtime_artifacts WHERE root=%s", (self.root,)
                )
            }
            taken: list[Mapping[str, Any]] = []
            with conn.cursor().copy(
                "COPY flowtime_artifacts (root, kind, id, version, state, inputs_hash, name, "
                "template_id, model_id, owner, visibility, created_utc, tags, search, "
                "catalog) FROM STDIN"
            ) as copy:
                for catalog in catalogs:
                    count += 1
                    ident = (catalog["kind"], catalog["id"], int(catalog.get("version") or 0))
                    if ident in pending:  # a writer's reservation: finished by its catalog
                        taken.append(catalog)
                        continue
                    copy.write_row(
                        (
                            self.root,
                            *ident,
                            "visible",
                            catalog.get("inputs_hash"),
                            *_columns(catalog),
                            _text(catalog),
                        )
                    )
            self._insert_visible(conn, taken)
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO flowtime_artifacts (root, kind, id, version, state, deleted_at) "
                    "VALUES (%s, %s, %s, %s, 'purged', now()) ON CONFLICT DO NOTHING",
                    [(self.root, k, i, v) for k, i, v in deleted],
                )
            conn.execute(
                "UPDATE flowtime_artifacts a SET latest = (a.version = m.top) FROM (SELECT kind, "
                "id, max(version) AS top FROM flowtime_artifacts WHERE root=%s AND "
                "state='visible' GROUP BY kind, id) m WHERE a.root=%s AND a.kind=m.kind AND "
                "a.id=m.id AND a.state='visible'",
                (self.root, self.root),
            )
            self._recount(conn)
        return count

    # -- internals --------------------------------------------------------------------------

    def _upsert_visible(self, catalogs: list[Mapping[str, Any]]) -> None:
        with self._conn() as conn, conn.transaction():
            for catalog in catalogs:
                self._lock(conn, str(catalog["kind"]), str(catalog["id"]))
            self._insert_visible(conn, catalogs)
            for catalog in catalogs:
                self._relatest(conn, str(catalog["kind"]), str(catalog["id"]))

    def _insert_visible(self, conn: Connection[Any], catalogs: list[Mapping[str, Any]]) -> None:
        if not catalogs:
            return
        rows = [
            (
                self.root,
                c["kind"],
                c["id"],
                int(c.get("version") or 0),
                c.get("inputs_hash"),
                *_columns(c),
                _text(c),
            )
            for c in catalogs
        ]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO flowtime_artifacts (root, kind, id, version, state, inputs_hash, "
                "name, template_id, model_id, owner, visibility, created_utc, tags, search, "
                "catalog) VALUES (%s, %s, %s, %s, 'visible', %s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s) ON CONFLICT (root, kind, id, version) DO UPDATE SET state='visible', "
                "inputs_hash=EXCLUDED.inputs_hash, name=EXCLUDED.name, "
                "template_id=EXCLUDED.template_id, model_id=EXCLUDED.model_id, "
                "owner=EXCLUDED.owner, visibility=EXCLUDED.visibility, "
                "created_utc=EXCLUDED.created_utc, tags=EXCLUDED.tags, search=EXCLUDED.search, "
                "catalog=EXCLUDED.catalog",
                rows,
            )

    def _lock(self, conn: Connection[Any], kind: str, artifact_id: str) -> None:
        """Serialise changes to one model's rows, so ``latest`` names its newest version."""
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"{self.root}|{kind}|{artifact_id}",),
        )

    def _relatest(self, conn: Connection[Any], kind: str, artifact_id: str) -> None:
        """Mark the newest visible version as the listed one, and count the change: one
        statement, whose parts all see the rows as they were before it."""
        conn.execute(
            "WITH before AS (SELECT count(*) AS n FROM flowtime_artifacts WHERE root=%(r)s AND "
            "kind=%(k)s AND id=%(i)s AND latest), "
            "after AS (UPDATE flowtime_artifacts SET latest = (state='visible' AND version = "
            "(SELECT max(version) FROM flowtime_artifacts WHERE root=%(r)s AND kind=%(k)s AND "
            "id=%(i)s AND state='visible')) WHERE root=%(r)s AND kind=%(k)s AND id=%(i)s "
            "RETURNING latest) "
            "INSERT INTO flowtime_counts SELECT %(r)s, %(k)s, delta FROM (SELECT (SELECT "
            "count(*) FROM after WHERE latest) - (SELECT n FROM before) AS delta) d "
            "WHERE delta <> 0 ON CONFLICT (root, kind) DO UPDATE SET listed = "
            "flowtime_counts.listed + EXCLUDED.listed",
            {"r": self.root, "k": kind, "i": artifact_id},
        )

    def _recount(self, conn: Connection[Any]) -> None:
        conn.execute("DELETE FROM flowtime_counts WHERE root=%s", (self.root,))
        conn.execute(
            "INSERT INTO flowtime_counts SELECT root, kind, count(*) FROM flowtime_artifacts "
            "WHERE root=%s AND latest GROUP BY root, kind",
            (self.root,),
        )


def _ensure_schema(conn: Connection[Any]) -> None:
    """Create the table and its indexes on first use (one cheap look when they exist)."""
    if conn.execute("SELECT to_regclass('flowtime_counts') IS NOT NULL").fetchone() == (True,):
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(7413)")  # one creator at a time
        conn.execute(SCHEMA)


def _answering_connection() -> type[Connection[Any]]:
    """psycopg's connection, with a deadline on every answer it waits for (``answer_within``
    seconds): past it the connection is closed, so the pool replaces it."""
    import psycopg
    from psycopg import errors

    class AnsweringConnection(psycopg.Connection[Any]):
        answer_within: float = DEFAULT_CONNECT_TIMEOUT_S

        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            try:
                return super().wait(
                    gen, interval, self.answer_within if timeout is None else timeout
                )
            except errors._WaitTimeout:
                self.pgconn.finish()  # mid-statement: its state is unknown
                raise _Silent from None

    return AnsweringConnection


class _Silent(Exception):
    """The database did not answer a statement in time."""


_POOLS: dict[str, ConnectionPool[Connection[Any]]] = {}
_POOLS_LOCK = threading.Lock()


def _shared_pool(url: str, timeout: float) -> ConnectionPool[Connection[Any]]:
    """One pool per database URL and process: a service's threads share its connections."""
    from psycopg_pool import ConnectionPool

    with _POOLS_LOCK:
        pool = _POOLS.get(url)
        if pool is None:
            if not _POOLS:
                atexit.register(_close_pools)
            pool = ConnectionPool(
                url,
                min_size=1,
                max_size=POOL_MAX,
                timeout=timeout,
                open=False,
                reconnect_timeout=0,
                name="flowtime-index",
                connection_class=_answering_connection(),
                configure=lambda conn: setattr(conn, "answer_within", timeout),
                kwargs={"autocommit": True, "connect_timeout": max(1, round(timeout))},
                check=_check_if_idle,
                reset=_note_return,
            )
            pool.open(wait=False)
            _POOLS[url] = pool
        return pool


# a connection back in the pool for less than this is taken as working: checking it would
# cost a round trip per use, and a database that went away since fails the statement anyway
CHECK_AFTER_IDLE_S = 1.0


def _note_return(conn: Connection[Any]) -> None:
    conn.returned_at = time.monotonic()  # type: ignore[attr-defined]


def _check_if_idle(conn: Connection[Any]) -> None:
    from psycopg_pool import ConnectionPool

    if time.monotonic() - getattr(conn, "returned_at", 0.0) >= CHECK_AFTER_IDLE_S:
        ConnectionPool.check_connection(conn)


def _close_pools() -> None:
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close(timeout=1)
        _POOLS.clear()


def _columns(c: Mapping[str, Any]) -> tuple[Any, ...]:
    tags = [str(t) for t in c.get("tags") or []]
    words = [str(c.get(k) or "") for k in ("id", "name", "template_id", "model_id")] + tags
    return (
        c.get("name"),
        c.get("template_id"),
        c.get("model_id"),
        c.get("owner"),
        c.get("visibility"),
        c["created_utc"],
        tags,
        " ".join(words).lower(),
    )


def _text(catalog: Mapping[str, Any]) -> str:
    from flowtime_sim.registry.catalog import dump_catalog

    return dump_catalog(dict(catalog)).decode("utf-8")


def _identity(key: str) -> tuple[str, str, int]:
    parts = key.split("/")
    if parts[0] in ("runs", "sweeps"):
        return parts[0].removesuffix("s"), parts[1], 0
    return "model", parts[1], int(parts[2].removeprefix("v"))


__all__ = ["DELETED", "PENDING", "PURGED", "VISIBLE", "PostgresIndex"]
