"""`docker images` rows, as docker/cli's formatter makes them from the daemon's list
(cli/command/formatter/image.go): one per tag, one per repository known only by digest,
or one <none> row; filtered and newest first. `-q` prints the ID of every row.

Reads only the database (no config blobs) unless a label filter needs them,
so listing stays fast with many images.
"""
from __future__ import annotations

import time

from ..errors import InvalidArgument
from ..oci import image as oci
from ..dockerjson.columns import go_time
from ..reference import familiar, split_name
from ..reference_match import familiar_match

FILTERS = {"dangling", "reference", "label", "before", "since", "until"}


def _reference_match(patterns: list[str], names: list[str]) -> list[str]:
    """Names matching any `reference=` pattern, tried in order as moby does (a malformed one
    is an error once a name gets to it): FamiliarMatch, Go's path.Match."""
    return [full for full in names if any(familiar_match(p, full) for p in patterns)]


def _listed(tagged: bool, digested: bool, has_children: bool, all_images: bool,
            dangling: bool | None, by_reference: bool) -> bool:
    """moby's Images, once references are filtered: an image left with none is listed
    (as <none>) only when it has no children or -a is given, and never under dangling=false
    or a reference filter; dangling=true drops tagged images but keeps one known only by
    digest, which dangling=false keeps too."""
    if not tagged and not digested:
        return (all_images or not has_children) and dangling is not False and not by_reference
    return not (dangling and tagged)


def _bool_filter(values: list[str], name: str) -> bool:
    v = values[-1].lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise InvalidArgument(f"invalid filter '{name}={values[-1]}'")


def _created(svc, name: str) -> float:
    return oci.parse_time(svc.db.image(svc.resolve(name)).created)


def _label_ok(svc, image_id: str, wanted: list[str]) -> bool:
    labels = (svc.config(image_id).get("config") or {}).get("Labels") or {}
    for w in wanted:
        k, eq, v = w.partition("=")
        if k not in labels or (eq and labels[k] != v):
            return False
    return True


def list_rows(svc, all_images: bool, filters: dict[str, list[str]], repository: str | None,
              show_digests: bool = False, need_digest: bool = False) -> list[dict]:
    """The rows; `show_digests` and `need_digest` as `rows_for` takes them."""
    for key in filters:
        if key not in FILTERS:
            raise InvalidArgument(f"invalid filter '{key}'")
    now = time.time()
    tags_by_image: dict[str, list[str]] = {}
    for name, image_id in svc.db.all_tags():
        tags_by_image.setdefault(image_id, []).append(name)
    digests_by_image: dict[str, list[str]] = {}
    for name, image_id in svc.db.all_repo_digests():
        digests_by_image.setdefault(image_id, []).append(name)
    rows_db = svc.db.images()
    parents = {r.parent for r in rows_db if r.parent}
    dangling = _bool_filter(filters["dangling"], "dangling") if "dangling" in filters else None
    before = min(_created(svc, n) for n in filters["before"]) if "before" in filters else None
    since = max(_created(svc, n) for n in filters["since"]) if "since" in filters else None
    patterns = list(filters.get("reference", [])) + ([repository] if repository else [])
    rows = []
    for img in rows_db:
        tags, digests = tags_by_image.get(img.id, []), digests_by_image.get(img.id, [])
        created = oci.parse_time(img.created)
        if dangling and img.id in parents:
            continue  # moby lists only images without children for dangling=true, -a or not
        if before is not None and created >= before or since is not None and created <= since:
            continue
        if "label" in filters and not _label_ok(svc, img.id, filters["label"]):
            continue
        if patterns:  # moby keeps the references that match, and the image if any does
            tags = _reference_match(patterns, tags)
            digests = _reference_match(patterns, digests)
        if not _listed(bool(tags), bool(digests), img.id in parents, all_images, dangling, bool(patterns)):
            continue
        rows += rows_for(img, tags, digests, created, now, show_digests, need_digest)
    rows.sort(key=lambda r: (-r["_created"], r["Repository"], r["Tag"]))
    return rows


def top_level_rows(svc) -> list[dict]:
    """One row per image `images` lists without -a (its first tag), as `system df` counts them."""
    seen, out = set(), []
    for row in list_rows(svc, False, {}, None):
        if row["_id"] not in seen:
            seen.add(row["_id"])
            out.append(row)
    return out


def rows_for(img, tags: list[str], digests: list[str], created: float, now: float,
             show_digests: bool = False, need_digest: bool = False) -> list[dict]:
    """docker/cli's rows for one image (formatter/image.go imageFormatTaggedAndDigest): a row
    per tag, repeated for each digest of its repository when `need_digest` (--digests, or
    {{.Digest}} in the format); a row per repository known only by digest, or one per such
    digest when `show_digests` (--digests); an image with neither, one <none> row."""
    from ..opts.units import ago, human_size
    from ..dockerjson.container import Row
    base = {
        "ID": img.id.split(":", 1)[1][:12], "_id": img.id, "_created": created,
        "CreatedSince": ago(created, now) if created else "N/A", "CreatedAt": go_time(created),
        "Size": human_size(img.size), "VirtualSize": human_size(img.size, 4),  # docker/cli: HumanSize
        "SharedSize": "N/A", "UniqueSize": "N/A", "Containers": "N/A", "_size": img.size,
        "_digests": [familiar(d) for d in digests],
    }

    def row(repository: str, tag: str, digest: str) -> dict:
        return Row({**base, "Repository": repository, "Tag": tag, "Digest": digest})

    if not tags and not digests:
        return [row("<none>", "<none>", "<none>")]
    digests_by_repo: dict[str, list[str]] = {}
    for d in digests:
        repo, digest = split_name(d)
        digests_by_repo.setdefault(repo, []).append(digest)
    out = []
    for t in tags:
        repo, tag = split_name(t)
        out += [row(repo, tag, d) for d in (need_digest and digests_by_repo.get(repo)) or ["<none>"]]
    tagged = {split_name(t)[0] for t in tags}
    for repo, repo_digests in digests_by_repo.items():
        if repo not in tagged:  # docker/cli: its digest shown only with --digests
            out += [row(repo, "<none>", d) for d in repo_digests] if show_digests else [row(repo, "<none>", "")]
    return out
