"""The fake shop's state: JSON documents in SQLite (stdlib ``sqlite3``, a file or ``:memory:``).

One connection serialised by a re-entrant lock; request handlers hold the lock around each
read-modify-write, so concurrent clients see the atomic updates a real MySQL row update gives.
Documents are ``{"f": scalar fields, "l": {field: {language id: text}}, "a": associations}``
with every value stored as text (or None for NULL), the way PrestaShop hands them out.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

Doc = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    resource TEXT NOT NULL,
    id INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (resource, id)
);
CREATE TABLE IF NOT EXISTS sequences (resource TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency_keys (key TEXT PRIMARY KEY, id_product INTEGER NOT NULL);
-- Lookups filter on a field and list by id: ending each index with id serves both, otherwise
-- SQLite walks the primary key (already in id order) and reads every row of the resource.
DROP INDEX IF EXISTS objects_id_product;
DROP INDEX IF EXISTS objects_reference;
DROP INDEX IF EXISTS objects_ean13;
CREATE INDEX IF NOT EXISTS objects_by_product ON objects (resource, json_extract(doc, '$.f.id_product'), id);
CREATE INDEX IF NOT EXISTS objects_by_reference
    ON objects (resource, lower(json_extract(doc, '$.f.reference')), id);
CREATE INDEX IF NOT EXISTS objects_by_ean13 ON objects (resource, lower(json_extract(doc, '$.f.ean13')), id);
CREATE INDEX IF NOT EXISTS objects_by_category
    ON objects (resource, json_extract(doc, '$.f.id_category_default'), id);
"""


def new_doc() -> Doc:
    return {"f": {}, "l": {}, "a": {}}


class FakeStore:
    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._depth = 0

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Atomic block (re-entrant: nested blocks join the outer one)."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def is_empty(self) -> bool:
        with self.lock:
            return self._conn.execute("SELECT 1 FROM objects LIMIT 1").fetchone() is None

    def next_id(self, resource: str) -> int:
        """Ids are never reused after a delete, like MySQL's AUTO_INCREMENT."""
        with self.transaction():
            row = self._conn.execute(
                "SELECT last_id FROM sequences WHERE resource = ?", (resource,)
            ).fetchone()
            top = self._conn.execute(
                "SELECT COALESCE(MAX(id), 0) FROM objects WHERE resource = ?", (resource,)
            )
            next_id = max(row[0] if row else 0, top.fetchone()[0]) + 1
            self._conn.execute(
                "INSERT INTO sequences (resource, last_id) VALUES (?, ?) "
                "ON CONFLICT (resource) DO UPDATE SET last_id = excluded.last_id",
                (resource, next_id),
            )
            return next_id

    def insert(self, resource: str, doc: Doc, *, object_id: int | None = None) -> int:
        with self.transaction():
            object_id = object_id if object_id is not None else self.next_id(resource)
            doc["f"]["id"] = str(object_id)
            self._conn.execute(
                "INSERT INTO objects (resource, id, doc) VALUES (?, ?, ?)",
                (resource, object_id, json.dumps(doc)),
            )
            return object_id

    def save(self, resource: str, object_id: int, doc: Doc) -> None:
        with self.lock:
            doc["f"]["id"] = str(object_id)
            self._conn.execute(
                "UPDATE objects SET doc = ? WHERE resource = ? AND id = ?",
                (json.dumps(doc), resource, object_id),
            )

    def delete(self, resource: str, object_id: int) -> bool:
        with self.lock:
            cursor = self._conn.execute(
                "DELETE FROM objects WHERE resource = ? AND id = ?", (resource, object_id)
            )
            return cursor.rowcount > 0

    def get(self, resource: str, object_id: int) -> Doc | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT doc FROM objects WHERE resource = ? AND id = ?", (resource, object_id)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def get_many(self, resource: str, ids: Sequence[int]) -> list[Doc]:
        """Documents in the order of ``ids`` (missing ids are skipped)."""
        if not ids:
            return []
        found: dict[int, Doc] = {}
        with self.lock:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT id, doc FROM objects WHERE resource = ? AND id IN ({marks})",  # noqa: S608 (placeholders)
                    (resource, *chunk),
                )
                found.update((row[0], json.loads(row[1])) for row in rows)
        return [found[object_id] for object_id in ids if object_id in found]

    def select_ids(
        self,
        resource: str,
        *,
        where: Sequence[tuple[str, Sequence[Any]]] = (),
        order: Sequence[str] = ("id ASC",),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[int]:
        """Ids matching SQL conditions built by the caller from schema field names only."""
        sql = ["SELECT id FROM objects WHERE resource = ?"]
        params: list[Any] = [resource]
        for clause, values in where:
            sql.append(f"AND ({clause})")
            params.extend(values)
        sql.append("ORDER BY " + ", ".join(order))
        if limit is not None:
            sql.append("LIMIT ? OFFSET ?")
            params += [limit, offset]
        elif offset:
            sql.append("LIMIT -1 OFFSET ?")
            params.append(offset)
        with self.lock:
            return [row[0] for row in self._conn.execute(" ".join(sql), params)]

    def count(self, resource: str, *, where: Sequence[tuple[str, Sequence[Any]]] = ()) -> int:
        sql = "SELECT COUNT(*) FROM objects WHERE resource = ?"
        params: list[Any] = [resource]
        for clause, values in where:
            sql += f" AND ({clause})"
            params.extend(values)
        with self.lock:
            return self._conn.execute(sql, params).fetchone()[0]

    def idempotency_get(self, key: str) -> int | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT id_product FROM idempotency_keys WHERE key = ?", (key,)
            ).fetchone()
        return row[0] if row else None

    def idempotency_set(self, key: str, id_product: int) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT INTO idempotency_keys (key, id_product) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET id_product = excluded.id_product",
                (key, id_product),
            )


def scalar_expr(field_name: str) -> str:
    """SQL for a scalar field of the document (field names come from the schema, never input)."""
    if field_name == "id":
        return "id"
    return f"json_extract(doc, '$.f.{field_name}')"
