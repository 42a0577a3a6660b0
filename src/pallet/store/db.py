"""The metadata database: with pallet.store.containers (the container records), the only SQL.

SQLite in WAL mode, one connection per process, busy timeout so concurrent
`pallet` processes wait rather than fail. Every change that makes something
visible (an image, its tags, its layers) is one `BEGIN IMMEDIATE` transaction,
so a process killed at any point leaves either all of it or none of it.
Deletions go through `deleting()`: it gives up the store's reserve on a nearly
full disk (pallet.store.reserve) and, with auto_vacuum=INCREMENTAL, gives
freed pages back to the disk once there are many. The file is 0600 (made so
by pallet.paths before SQLite opens it; its -wal and -shm files follow it).

Tables:
    layers        one row per unpacked layer, keyed by chain_id
    images        one row per image, keyed by image_id (sha256 of its config)
    image_layers  the ordered chain_ids of each image
    tags          "domain/path:tag" -> image_id (movable names)
    repo_digests  "domain/path@sha256:..." known for an image (pull/push)
    containers    one row per container; the record is JSON owned by services
"""
from __future__ import annotations

import time
from ..record import dataclass
from pathlib import Path

try:  # the C module: `sqlite3` adds only datetime adapters pallet never uses, and
    import _sqlite3 as sqlite3  # their `import datetime` costs every command ~2 ms
    sqlite3.connect  # noqa: B018 - present in every CPython since 3.2
except (ImportError, AttributeError):
    import sqlite3

IntegrityError = sqlite3.IntegrityError
OPEN_TIMEOUT = 30.0  # seconds a process waits for the database before giving up
from ..errors import Unavailable

SCHEMA_VERSION = 2  # 2: auto_vacuum=INCREMENTAL (deleted rows' pages are given back)
RECLAIM_PAGES = 256  # free pages (1 MiB) past which a deletion gives them back to the disk

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS layers(
    chain_id TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL,
    parent TEXT,
    size INTEGER NOT NULL,
    tar_size INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS images(
    id TEXT PRIMARY KEY,
    created TEXT,
    size INTEGER NOT NULL,
    parent TEXT,
    loaded REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS image_layers(
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    chain_id TEXT NOT NULL REFERENCES layers(chain_id),
    PRIMARY KEY(image_id, idx)
);
CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);
CREATE TABLE IF NOT EXISTS tags(
    name TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tags_image ON tags(image_id);
CREATE TABLE IF NOT EXISTS repo_digests(
    name TEXT NOT NULL,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    manifest_digest TEXT,
    PRIMARY KEY(name, image_id)
);
CREATE TABLE IF NOT EXISTS containers(
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL,
    created REAL NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS containers_image ON containers(image_id);
-- --- build cache (pallet.build.cache): step cache key -> the image that step made ---
CREATE TABLE IF NOT EXISTS build_cache(
    key TEXT PRIMARY KEY,
    image_id TEXT NOT NULL,
    created REAL NOT NULL
);
-- the inputs a step slot saw last time, to say why it was not reused
CREATE TABLE IF NOT EXISTS build_steps(
    slot TEXT PRIMARY KEY,
    inputs TEXT NOT NULL,
    created REAL NOT NULL
);
-- --- volumes (pallet.volume.local): one row per volume of the local driver ---
CREATE TABLE IF NOT EXISTS volumes(
    name TEXT PRIMARY KEY,
    driver TEXT NOT NULL,
    created TEXT NOT NULL,
    labels TEXT NOT NULL,
    options TEXT NOT NULL
);
-- --- registry blobs (pallet.registry.push/pull): compressed digest <-> diff_id seen per repository ---
CREATE TABLE IF NOT EXISTS registry_blobs(
    digest TEXT NOT NULL,
    diff_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    repository TEXT NOT NULL,
    PRIMARY KEY(digest, repository)
);
CREATE INDEX IF NOT EXISTS registry_blobs_diff ON registry_blobs(diff_id);
"""


@dataclass
class LayerRow:
    chain_id: str
    diff_id: str
    parent: str | None
    size: int
    tar_size: int
    created: float


@dataclass
class ImageRow:
    id: str
    created: str | None
    size: int
    parent: str | None
    loaded: float


class Database:
    def __init__(self, path: Path, reserve: Path | None = None):
        self.path, self.reserve = path, reserve
        deadline = time.monotonic() + OPEN_TIMEOUT
        while True:
            try:
                self._open(path)
                return
            except sqlite3.OperationalError as exc:
                # switching a new database to WAL, or recovering a WAL its last user left
                # (processes exit without closing), answers "locked" without waiting
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise Unavailable(f"cannot open the metadata database {path}: {exc}") from exc
                if self.conn is not None:
                    self.conn.close()
                time.sleep(0.01)
            except sqlite3.Error as exc:
                raise Unavailable(f"cannot open the metadata database {path}: {exc}") from exc

    def _open(self, path: Path) -> None:
        self.conn = None
        self.conn = sqlite3.connect(str(path), timeout=OPEN_TIMEOUT, isolation_level=None,
                                    check_same_thread=False)
        if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            # a new file: before WAL mode writes its first page, or never (see _migrate)
            self.conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        # CLI processes end with os._exit, never closing: the WAL then outlives them and the
        # next process to open the database reads it back first. Checkpointing every 128
        # pages (not 1000) keeps that read under ~0.5 ms for ~1 ms of checkpoint per ten runs.
        self.conn.execute("PRAGMA wal_autocheckpoint=128")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _migrate(self) -> None:
        row = None
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.OperationalError:
            pass
        if row is None:
            with self.transaction():
                for stmt in SCHEMA.split(";"):
                    if stmt.strip():
                        self.conn.execute(stmt)
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES('schema', ?)", (str(SCHEMA_VERSION),))
        elif row[0] == "1":
            self._upgrade_to_incremental_vacuum()

    def _upgrade_to_incremental_vacuum(self) -> None:
        """A store made before: auto_vacuum can only change with a VACUUM (once: it rewrites
        the file, ~0.1 s for thousands of containers). Concurrent upgraders each wait theirs."""
        if self.conn.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
            self.conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self.conn.execute("VACUUM")
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES('schema', ?)", (str(SCHEMA_VERSION),))

    def transaction(self) -> _Transaction:
        """`with db.transaction() as conn:` a write transaction, taken at once (IMMEDIATE) so
        writers queue instead of deadlocking; committed, or rolled back on an exception."""
        return _Transaction(self.conn)

    def deleting(self) -> _Transaction:
        """A transaction that deletes: on a nearly full disk the store's reserve is given up
        first (pallet.store.reserve), so that deleting, which frees the space, can commit."""
        self.make_room()
        return _Transaction(self.conn, self)

    def make_room(self) -> None:
        """Give up the reserve if the disk is nearly full: a verb that deletes calls it first
        (what it writes before it deletes must commit too). One statvfs otherwise."""
        if self.reserve is not None:
            from .reserve import before_delete
            before_delete(self.reserve)

    def restore_reserve(self) -> None:
        if self.reserve is not None:
            from .reserve import restore
            restore(self.reserve)

    def reclaim(self) -> None:
        """Give free pages back to the disk once there are many (deleting 1000 containers
        otherwise leaves ~6 MB of them in the file). The check reads the header: ~µs."""
        try:
            if self.conn.execute("PRAGMA freelist_count").fetchall()[0][0] > RECLAIM_PAGES:
                # executescript steps it to the end: one execute() step frees a single page
                self.conn.executescript("PRAGMA incremental_vacuum;")
        except sqlite3.OperationalError:
            pass  # busy or full: a later deletion will

    def close(self) -> None:
        self.conn.close()

    # --- layers ---
    def layer(self, chain_id: str) -> LayerRow | None:
        r = self.conn.execute("SELECT chain_id, diff_id, parent, size, tar_size, created FROM layers "
                              "WHERE chain_id=?", (chain_id,)).fetchone()
        return LayerRow(*r) if r else None

    def insert_layer(self, row: LayerRow) -> None:
        self.conn.execute("INSERT OR IGNORE INTO layers VALUES(?,?,?,?,?,?)",
                          (row.chain_id, row.diff_id, row.parent, row.size, row.tar_size, row.created))

    def all_layers(self) -> list[LayerRow]:
        return [LayerRow(*r) for r in self.conn.execute(
            "SELECT chain_id, diff_id, parent, size, tar_size, created FROM layers")]

    def unreferenced_layers(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT chain_id FROM layers WHERE chain_id NOT IN (SELECT chain_id FROM image_layers)")]

    def delete_layers(self, chain_ids: list[str]) -> None:
        self.conn.executemany("DELETE FROM layers WHERE chain_id=?", [(c,) for c in chain_ids])

    # --- images ---
    def insert_image(self, row: ImageRow, chain_ids: list[str]) -> bool:
        """Insert an image and its layer list; False if it was already there."""
        cur = self.conn.execute("INSERT OR IGNORE INTO images VALUES(?,?,?,?,?)",
                                (row.id, row.created, row.size, row.parent, row.loaded))
        if cur.rowcount == 0:
            return False
        self.conn.executemany("INSERT INTO image_layers VALUES(?,?,?)",
                              [(row.id, i, c) for i, c in enumerate(chain_ids)])
        return True

    def image(self, image_id: str) -> ImageRow | None:
        r = self.conn.execute("SELECT id, created, size, parent, loaded FROM images WHERE id=?",
                              (image_id,)).fetchone()
        return ImageRow(*r) if r else None

    def images(self) -> list[ImageRow]:
        return [ImageRow(*r) for r in self.conn.execute(
            "SELECT id, created, size, parent, loaded FROM images")]

    def images_by_prefix(self, hex_prefix: str) -> list[str]:
        # a key range (LIKE would scan every row): IDs are `sha256:` and lowercase hex, so
        # those starting with the prefix sort from it to just before it + "g"
        low = "sha256:" + hex_prefix
        return [r[0] for r in self.conn.execute("SELECT id FROM images WHERE id >= ? AND id < ?",
                                                (low, low + "g"))]

    def image_chain(self, image_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT chain_id FROM image_layers WHERE image_id=? ORDER BY idx", (image_id,))]

    def delete_image(self, image_id: str) -> None:
        self.conn.execute("DELETE FROM images WHERE id=?", (image_id,))

    def children(self, image_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM images WHERE parent=?", (image_id,))]

    # --- tags and digests ---
    def set_tag(self, name: str, image_id: str) -> str | None:
        """Point a tag at an image; returns the image it pointed at before, if any."""
        r = self.conn.execute("SELECT image_id FROM tags WHERE name=?", (name,)).fetchone()
        self.conn.execute("INSERT OR REPLACE INTO tags VALUES(?,?,?)", (name, image_id, time.time()))
        return r[0] if r else None

    def tag(self, name: str) -> str | None:
        r = self.conn.execute("SELECT image_id FROM tags WHERE name=?", (name,)).fetchone()
        return r[0] if r else None

    def delete_tag(self, name: str) -> None:
        self.conn.execute("DELETE FROM tags WHERE name=?", (name,))

    def tags_of(self, image_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT name FROM tags WHERE image_id=? ORDER BY created, name", (image_id,))]

    def all_tags(self) -> list[tuple[str, str]]:
        return list(self.conn.execute("SELECT name, image_id FROM tags ORDER BY created, name"))

    def add_repo_digest(self, name: str, image_id: str, manifest_digest: str | None) -> None:
        self.conn.execute("INSERT OR REPLACE INTO repo_digests VALUES(?,?,?)",
                          (name, image_id, manifest_digest))

    def repo_digests_of(self, image_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT name FROM repo_digests WHERE image_id=? ORDER BY name", (image_id,))]

    def all_repo_digests(self) -> list[tuple[str, str]]:
        return list(self.conn.execute("SELECT name, image_id FROM repo_digests ORDER BY name"))

    def image_by_repo_digest(self, name: str) -> str | None:
        r = self.conn.execute("SELECT image_id FROM repo_digests WHERE name=?", (name,)).fetchone()
        return r[0] if r else None

    def manifest_digests(self) -> set[str]:
        return {r[0] for r in self.conn.execute(
            "SELECT manifest_digest FROM repo_digests WHERE manifest_digest IS NOT NULL")}

    # --- containers (records are owned by pallet.services.containers) ---
    def containers_using_image(self, image_id: str) -> list[tuple[str, str]]:
        return list(self.conn.execute("SELECT id, name FROM containers WHERE image_id=?", (image_id,)))

    # --- build cache (pallet.build.cache owns the keys; rows may outlive their image) ---
    BUILD_TABLES = ("CREATE TABLE IF NOT EXISTS build_cache(key TEXT PRIMARY KEY, image_id TEXT NOT NULL, "
                    "created REAL NOT NULL)",
                    "CREATE TABLE IF NOT EXISTS build_steps(slot TEXT PRIMARY KEY, inputs TEXT NOT NULL, "
                    "created REAL NOT NULL)")

    def _build_tables(self) -> None:
        """Databases made before the build cache existed get its tables on first use."""
        if not getattr(self, "_build_ready", False):
            for stmt in self.BUILD_TABLES:
                self.conn.execute(stmt)
            self._build_ready = True

    def build_cache_get(self, key: str) -> str | None:
        self._build_tables()
        r = self.conn.execute("SELECT image_id FROM build_cache WHERE key=?", (key,)).fetchone()
        return r[0] if r else None

    def build_cache_put(self, key: str, image_id: str) -> None:
        self._build_tables()
        self.conn.execute("INSERT OR REPLACE INTO build_cache VALUES(?,?,?)", (key, image_id, time.time()))

    def build_cache_images(self) -> list[str]:
        self._build_tables()
        return [r[0] for r in self.conn.execute("SELECT DISTINCT image_id FROM build_cache")]

    def build_cache_clear(self) -> int:
        """Forget every cache entry and step record; returns how many entries there were."""
        self._build_tables()
        n = self.conn.execute("SELECT COUNT(*) FROM build_cache").fetchone()[0]
        self.conn.execute("DELETE FROM build_cache")
        self.conn.execute("DELETE FROM build_steps")
        return n

    def build_step_inputs(self, slot: str) -> str | None:
        self._build_tables()
        r = self.conn.execute("SELECT inputs FROM build_steps WHERE slot=?", (slot,)).fetchone()
        return r[0] if r else None

    def set_build_step_inputs(self, slot: str, inputs: str) -> None:
        self._build_tables()
        self.conn.execute("INSERT OR REPLACE INTO build_steps VALUES(?,?,?)", (slot, inputs, time.time()))

    # --- volumes (pallet.volume.local owns the rows; labels/options are JSON objects) ---
    VOLUME_TABLE = ("CREATE TABLE IF NOT EXISTS volumes(name TEXT PRIMARY KEY, driver TEXT NOT NULL, "
                    "created TEXT NOT NULL, labels TEXT NOT NULL, options TEXT NOT NULL)")

    def _volume_table(self) -> None:
        """Databases made before volumes existed get the table on first use."""
        if not getattr(self, "_volumes_ready", False):
            self.conn.execute(self.VOLUME_TABLE)
            self._volumes_ready = True

    def insert_volume(self, name: str, driver: str, created: str, labels: str, options: str) -> bool:
        """Insert unless the name exists; returns whether this call created it."""
        self._volume_table()
        cur = self.conn.execute("INSERT OR IGNORE INTO volumes VALUES(?,?,?,?,?)",
                                (name, driver, created, labels, options))
        return cur.rowcount == 1

    def volume(self, name: str) -> tuple | None:
        self._volume_table()
        return self.conn.execute("SELECT name, driver, created, labels, options FROM volumes "
                                 "WHERE name=?", (name,)).fetchone()

    def volumes(self) -> list[tuple]:
        self._volume_table()
        return list(self.conn.execute("SELECT name, driver, created, labels, options FROM volumes "
                                      "ORDER BY name"))

    def delete_volume(self, name: str) -> None:
        self._volume_table()
        self.conn.execute("DELETE FROM volumes WHERE name=?", (name,))

    # --- registry blobs (pallet.registry): which compressed blob a layer was pulled or pushed as ---
    REGISTRY_TABLES = ("CREATE TABLE IF NOT EXISTS registry_blobs(digest TEXT NOT NULL, diff_id TEXT NOT NULL, "
                       "size INTEGER NOT NULL, repository TEXT NOT NULL, PRIMARY KEY(digest, repository))",
                       "CREATE INDEX IF NOT EXISTS registry_blobs_diff ON registry_blobs(diff_id)")

    def _registry_tables(self) -> None:
        """Databases made before registry support get the table on first use."""
        if not getattr(self, "_registry_ready", False):
            for stmt in self.REGISTRY_TABLES:
                self.conn.execute(stmt)
            self._registry_ready = True

    def add_registry_blob(self, digest: str, diff_id: str, size: int, repository: str) -> None:
        """`repository` is fully qualified without tag: "localhost:5000/app"."""
        self._registry_tables()
        self.conn.execute("INSERT OR REPLACE INTO registry_blobs VALUES(?,?,?,?)",
                          (digest, diff_id, size, repository))

    def registry_blobs_for(self, diff_id: str) -> list[tuple[str, int, str]]:
        """(digest, size, repository) rows for a layer, most recently recorded first."""
        self._registry_tables()
        return list(self.conn.execute("SELECT digest, size, repository FROM registry_blobs WHERE diff_id=? "
                                      "ORDER BY rowid DESC", (diff_id,)))


class _Transaction:
    """Database.transaction's context manager (a class: contextlib costs every command
    ~0.4 ms to import)."""

    def __init__(self, conn, reclaiming: Database | None = None):
        self.conn, self.reclaiming = conn, reclaiming

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, *_exc) -> None:
        self.conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")
        if exc_type is None and self.reclaiming is not None:
            self.reclaiming.reclaim()
