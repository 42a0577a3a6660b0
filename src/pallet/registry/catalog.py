"""Repository names from a registry's catalog: `GET /v2/_catalog` (distribution's API,
the only listing the OCI distribution spec's registries offer; there is no v1 search).

Pages with `n` and `last`, following the `Link: <...>; rel="next"` header the registry
sends while more names remain. A registry that has no catalog (404) lists nothing.
Must not import services or anything above the registry layer.
"""
from __future__ import annotations

import re

from ..errors import NotFound

PAGE = 100
MAX_PAGES = 100  # 10,000 names: a bound on what one search may walk
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def repositories(session) -> list[str]:
    """Every repository name the registry lists, in its order."""
    names: list[str] = []
    path, params = "/v2/_catalog", {"n": str(PAGE)}
    for _ in range(MAX_PAGES):
        try:
            resp = session.send("GET", path, ["registry:catalog:*"], params=params)
        except NotFound:
            return names
        try:
            page = resp.json().get("repositories") or []
        except (ValueError, AttributeError):
            page = []
        names += [n for n in page if isinstance(n, str)]
        link = _NEXT.search(resp.headers.get("link", ""))
        if not link or not page:
            break
        path, params = link.group(1), None
    return names
