"""Docker's ImageSummary, one item of `GET /images/json` (what `docker images` renders).

Made from the rows `pallet images` lists (same filters, same order), grouped back
into one item per image, so both listings agree by construction.
"""
from __future__ import annotations


def image_summaries(svc, rows: list[dict]) -> list[dict]:
    out: dict[str, dict] = {}
    for row in rows:
        image_id = row["_id"]
        item = out.get(image_id)
        if item is None:
            item = out[image_id] = {
                "Id": image_id, "ParentId": _parent(svc, image_id), "RepoTags": [],
                "RepoDigests": row["_digests"],  # those a reference filter kept, as moby
                "Created": int(row["_created"]), "Size": row["_size"], "SharedSize": -1,
                "Labels": (svc.config(image_id).get("config") or {}).get("Labels") or {},
                "Containers": -1,
            }
        if row["Tag"] != "<none>":
            item["RepoTags"].append(f"{row['Repository']}:{row['Tag']}")
    return list(out.values())


def _parent(svc, image_id: str) -> str:
    image = svc.db.image(image_id)
    return (image.parent or "") if image else ""


def history_items(rows: list[dict]) -> list[dict]:
    """`GET /images/{name}/history`: the rows `pallet history` shows, as Docker's
    HistoryResponseItem (Id, Created in Unix seconds)."""
    from ..oci.image import parse_time
    return [{"Id": r["ID"], "Created": int(parse_time(r["Created"])) if r["Created"] else 0,
             "CreatedBy": r["CreatedBy"], "Tags": r["Tags"], "Size": r["Size"], "Comment": r["Comment"]}
            for r in rows]
