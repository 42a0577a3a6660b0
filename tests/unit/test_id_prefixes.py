"""Docker's lookup of a container or image by a prefix of its ID: a unique prefix names
it, a prefix shared by two is refused as ambiguous, and nothing else matches. The lookup
is a range of the ID key (an index search), not a scan of every row."""
from __future__ import annotations

import pytest

from pallet.errors import Conflict, NotFound
from pallet.store.containers import ContainerStore
from pallet.store.db import Database, ImageRow

IDS = ["ab12" + "0" * 60, "ab13" + "0" * 60, "f" * 64]


@pytest.fixture
def db(tmp_path):
    return Database(tmp_path / "pallet.db")


@pytest.fixture
def containers(db):
    store = ContainerStore(db)
    for n, cid in enumerate(IDS):
        store.insert({"Id": cid, "Name": f"/c{n}", "Image": "sha256:" + "1" * 64, "_created": n,
                      "State": {}})
    return store


def test_a_unique_id_prefix_names_the_container(containers):
    assert containers.resolve("ab12") == IDS[0]
    assert containers.resolve("f") == IDS[2]
    assert containers.resolve(IDS[1]) == IDS[1]


def test_a_prefix_two_containers_share_is_ambiguous(containers):
    with pytest.raises(Conflict, match="multiple IDs found with provided prefix: ab1"):
        containers.resolve("ab1")


def test_a_prefix_of_no_container_and_a_removed_full_id_are_not_found(containers):
    for ref in ("ab14", "0", "e" * 64, "ab12" + "0" * 59 + "1"):
        with pytest.raises(NotFound, match=f"No such container: {ref}"):
            containers.resolve(ref)


def test_image_id_prefixes_match_only_images_that_start_with_them(db):
    for iid in IDS:
        db.insert_image(ImageRow("sha256:" + iid, None, 0, None, 0.0), [])
    assert db.images_by_prefix("ab12") == ["sha256:" + IDS[0]]
    assert sorted(db.images_by_prefix("ab1")) == ["sha256:" + IDS[0], "sha256:" + IDS[1]]
    assert db.images_by_prefix("ab14") == [] and db.images_by_prefix("g") == []
    assert len(db.images_by_prefix("")) == 3


def test_the_lookups_search_the_id_key_instead_of_scanning(db, containers):
    seen = []
    db.conn.set_trace_callback(seen.append)
    with pytest.raises(NotFound):
        containers.resolve("ab14")
    db.images_by_prefix("ab1")
    db.conn.set_trace_callback(None)
    lookups = [sql for sql in seen if "id >=" in sql]
    assert len(lookups) == 2
    for sql in lookups:
        plan = " ".join(str(row) for row in db.conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert "SEARCH" in plan and "SCAN" not in plan, plan
