"""Container records: stored as Docker-shaped JSON in the `containers` table.

Names are unique by a database constraint, so of two concurrent
`run --name x` exactly one wins. Each update is a read-modify-write inside one
IMMEDIATE transaction, so concurrent pallet processes never lose a change.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import Callable

from .. import jsontext
from ..errors import AlreadyExists, Conflict, NotFound
from .db import IntegrityError


# id -> (stored text, decoded record): shared by every Engine of one process (the
# service leases one per thread); entries are never mutated, only replaced.
_DECODED: dict[str, tuple[str, dict]] = {}


class _Changes:
    """A count of the container records this process has written, for a thread waiting on
    another thread's change (the API's `wait` for the start its client asks next); made on
    the first wait, so a CLI that never waits never imports threading."""

    def __init__(self):
        import threading
        self.cond = threading.Condition()
        self.count = 0

    def bump(self) -> None:
        with self.cond:
            self.count += 1
            self.cond.notify_all()


_CHANGES: _Changes | None = None


def _changed() -> None:
    if _CHANGES is not None:
        _CHANGES.bump()


class ContainerStore:
    def __init__(self, db):
        self.db = db
        self.conn = db.conn

    @staticmethod
    def changes() -> int:
        """A token for `wait_for_change`: take it before reading what you wait to see change."""
        global _CHANGES
        if _CHANGES is None:
            _CHANGES = _Changes()
        return _CHANGES.count

    @staticmethod
    def wait_for_change(since: int, timeout: float) -> None:
        """Return once this process has written a container record since `changes()` gave
        `since`, or after `timeout` seconds (another process's writes are not seen here:
        read again)."""
        with _CHANGES.cond:
            _CHANGES.cond.wait_for(lambda: _CHANGES.count != since, timeout)

    def insert(self, record: dict) -> None:
        name = record["Name"].lstrip("/")
        try:
            with self.db.transaction():
                self.conn.execute("INSERT INTO containers VALUES(?,?,?,?,?)",
                                  (record["Id"], name, record["Image"], record["_created"],
                                   jsontext.dumps(record)))
            _changed()
        except IntegrityError as exc:
            row = self.conn.execute("SELECT id FROM containers WHERE name=?", (name,)).fetchone()
            other = row[0] if row else "?"
            raise AlreadyExists(
                f'Conflict. The container name "/{name}" is already in use by container "{other}". '
                "You have to remove (or rename) that container to be able to reuse that name.") from exc

    def exists(self, container_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM containers WHERE id=?", (container_id,)).fetchone() is not None

    def get(self, container_id: str) -> dict:
        row = self.conn.execute("SELECT record FROM containers WHERE id=?", (container_id,)).fetchone()
        if row is None:
            raise NotFound(f"No such container: {container_id}")
        return jsontext.loads(row[0])

    def resolve(self, ref: str) -> str:
        """Docker's lookup: full ID, then exact name, then a unique ID prefix."""
        ref = ref.lstrip("/") if ref.startswith("/") else ref
        row = self.conn.execute("SELECT id FROM containers WHERE id=? OR name=? "
                                "ORDER BY id=? DESC LIMIT 1", (ref, ref, ref)).fetchone()
        if row:
            return row[0]
        return self._by_prefix(ref)

    def named(self, name: str) -> str | None:
        """The ID of the container called `name`, if any: names only, never an ID prefix."""
        row = self.conn.execute("SELECT id FROM containers WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def find(self, ref: str) -> tuple[str, str]:
        """(id, stored text) of `ref`, looked up as `resolve` does: one query for a full ID
        or a name, what a read of one record (inspect) mostly is."""
        ref = ref.lstrip("/") if ref.startswith("/") else ref
        row = self.conn.execute("SELECT id, record FROM containers WHERE id=? OR name=? "
                                "ORDER BY id=? DESC LIMIT 1", (ref, ref, ref)).fetchone()
        if row:
            return row[0], row[1]
        cid = self._by_prefix(ref)
        row = self.conn.execute("SELECT record FROM containers WHERE id=?", (cid,)).fetchone()
        if row is None:
            raise NotFound(f"No such container: {ref}")
        return cid, row[0]

    @staticmethod
    def decoded(container_id: str, text: str) -> dict:
        """`text` decoded, or the record decoded from the same text before, shared with every
        reader in this process: read-only (copy the top level and State to change them)."""
        hit = _DECODED.get(container_id)
        if hit is not None and hit[0] == text:
            return hit[1]
        if len(_DECODED) > 4096:  # removed containers' entries, when nothing lists (`all`)
            _DECODED.clear()
        record = jsontext.loads(text)
        _DECODED[container_id] = (text, record)
        return record

    def _by_prefix(self, ref: str) -> str:
        if ref and all(c in "0123456789abcdef" for c in ref):
            # a key range, not LIKE, which scans every row: IDs are lowercase hex, so all
            # those starting with `ref` sort from `ref` to just before `ref + "g"`
            rows = self.conn.execute("SELECT id FROM containers WHERE id >= ? AND id < ? LIMIT 2",
                                     (ref, ref + "g")).fetchall()
            if len(rows) > 1:
                raise Conflict(f"multiple IDs found with provided prefix: {ref}")
            if rows:
                return rows[0][0]
        raise NotFound(f"No such container: {ref}")

    def update(self, container_id: str, change: Callable[[dict], None]) -> dict:
        with self.db.transaction():
            row = self.conn.execute("SELECT record FROM containers WHERE id=?", (container_id,)).fetchone()
            if row is None:
                raise NotFound(f"No such container: {container_id}")
            record = jsontext.loads(row[0])
            change(record)
            self.conn.execute("UPDATE containers SET record=?, name=? WHERE id=?",
                              (jsontext.dumps(record), record["Name"].lstrip("/"), container_id))
        _changed()
        return record

    def rename(self, container_id: str, new_name: str) -> None:
        def change(r):
            r["Name"] = "/" + new_name
        try:
            self.update(container_id, change)
        except IntegrityError as exc:
            raise AlreadyExists(f'Error when allocating new name: Conflict. The container name "/{new_name}" '
                                "is already in use") from exc

    def delete(self, container_id: str) -> None:
        with self.db.deleting():
            self.conn.execute("DELETE FROM containers WHERE id=?", (container_id,))
        _changed()

    def all(self) -> list[dict]:
        """Every record, newest first. A record whose stored text is unchanged since the
        last call is not decoded again: decoding was most of a 1000-container `GET
        /containers/json` in the long-lived service (a one-shot CLI decodes each once, as
        before). Each caller gets its own top level and its own State (what `refresh`
        folds live state into); nested parts are shared with the cache, read-only."""
        fresh: dict[str, tuple[str, dict]] = {}
        out = []
        for cid, text in self.conn.execute("SELECT id, record FROM containers ORDER BY created DESC"):
            hit = _DECODED.get(cid)
            record = hit[1] if hit is not None and hit[0] == text else jsontext.loads(text)
            fresh[cid] = (text, record)
            out.append({**record, "State": dict(record["State"])})
        # replaced whole, so removed containers leave it; threads racing here only miss
        _DECODED.clear()
        _DECODED.update(fresh)
        return out

    def ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM containers")]

    def ids_using_image(self, image_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM containers WHERE image_id=?", (image_id,))]

    def image_ids(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT DISTINCT image_id FROM containers")}
