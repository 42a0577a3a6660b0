"""The metadata database gives the pages of deleted rows back to the disk: removing 1000
containers used to leave ~6 MB of free pages in db.sqlite for good."""
from __future__ import annotations

import sqlite3

from pallet.store.db import RECLAIM_PAGES, Database

RECORD = "x" * 6000  # about what a container's record weighs


def _fill_and_delete(db: Database, n: int = 1000) -> None:
    with db.transaction() as conn:
        conn.executemany("INSERT INTO containers VALUES(?,?,?,?,?)",
                         [(f"{i:064x}", f"c{i}", "sha256:img", float(i), RECORD) for i in range(n)])
    for i in range(n):  # as `rm` does it: one container at a time
        with db.deleting() as conn:
            conn.execute("DELETE FROM containers WHERE id=?", (f"{i:064x}",))


def _free_pages(path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("PRAGMA freelist_count").fetchone()[0]
    finally:
        conn.close()


def test_removing_a_thousand_containers_leaves_no_megabytes_of_free_pages(tmp_path):
    db = Database(tmp_path / "db.sqlite")
    _fill_and_delete(db)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert _free_pages(tmp_path / "db.sqlite") <= RECLAIM_PAGES
    assert (tmp_path / "db.sqlite").stat().st_size < 2 << 20


def test_a_database_made_before_is_upgraded_and_its_free_pages_given_back(tmp_path):
    path = tmp_path / "db.sqlite"
    db = Database(path)
    # as a store made before schema 2 was: no auto_vacuum, and its deleted rows' pages kept
    db.conn.execute("PRAGMA auto_vacuum=NONE")
    db.conn.execute("VACUUM")
    db.conn.execute("UPDATE meta SET value='1' WHERE key='schema'")
    _fill_and_delete(db)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    assert _free_pages(path) > 1000  # the waste, as it was

    db = Database(path)
    assert db.conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    assert db.conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == "2"
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert _free_pages(path) == 0
