"""`docker search` over the registries pallet can reach: their catalogs, not Docker Hub.

A term naming a registry (`localhost:5000/busy`: a first part with a `.` or `:`, or
`localhost`, as Docker splits a search term) searches that registry; any other term
searches each registry in $PALLET_SEARCH_REGISTRIES (comma-separated) or daemon.json's
`search-registries`; with none configured there is no index to ask, which is Docker's
unreachable-index error. A repository matches when its name contains the term.
Results are Docker's search records (`name`, `description`, `star_count`, `is_official`,
`is_automated`); a catalog knows only names, so the rest are empty, zero and false,
and the name is the full one that `pull` takes (`localhost:5000/busybox`).
"""
from __future__ import annotations

import os

from ..errors import InvalidArgument, Unavailable

DEFAULT_LIMIT = 25  # dockerd's default when the client sends none
FILTERS = ("stars", "is-official", "is-automated")


def split_term(term: str) -> tuple[str | None, str]:
    """`localhost:5000/busy` -> ("localhost:5000", "busy"); `busy` -> (None, "busy")."""
    first, sep, rest = term.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, term


def configured_registries() -> list[str]:
    listed = [h.strip() for h in os.environ.get("PALLET_SEARCH_REGISTRIES", "").split(",") if h.strip()]
    if listed:
        return listed
    from ..registry.client import _daemon_config
    return [str(h) for h in _daemon_config().get("search-registries") or []]


def check_limit(limit: int | None) -> int:
    if not limit:
        return DEFAULT_LIMIT
    if not 1 <= limit <= 100:
        raise InvalidArgument(f"limit {limit} is outside the range of [1, 100]")
    return limit


def result_filter(filters: dict[str, list[str]]):
    """Docker's search filters -> a predicate over result records."""
    for name in filters:
        if name not in FILTERS:
            raise InvalidArgument(f"invalid filter '{name}'")
    tests = []
    for value in filters.get("stars", []):
        if not value.isdigit():
            raise InvalidArgument(f"invalid filter 'stars={value}'")
        tests.append(lambda r, n=int(value): r["star_count"] >= n)
    for name, key in (("is-official", "is_official"), ("is-automated", "is_automated")):
        for value in filters.get(name, []):
            if value.lower() not in ("true", "false", "1", "0"):
                raise InvalidArgument(f"invalid filter '{name}={value}'")
            tests.append(lambda r, k=key, want=value.lower() in ("true", "1"): r[k] == want)
    return lambda record: all(t(record) for t in tests)


def no_index(term: str, limit: int) -> Unavailable:
    return Unavailable(f'Get "https://index.docker.io/v1/search?q={term}&n={limit}": no registry to '
                       "search (set PALLET_SEARCH_REGISTRIES to registries with a catalog)")


def record(domain: str, repository: str) -> dict:
    return {"name": f"{domain}/{repository}", "description": "", "star_count": 0,
            "is_official": False, "is_automated": False}
