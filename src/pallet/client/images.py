"""The image verbs over the Engine API (`images`, `inspect`, `tag`, `rmi`, `pull`), with the
local ImageService's and RegistryService's method names and results."""
from __future__ import annotations

from ..errors import NotFound
from .transport import path_of


class RemoteImages:
    def __init__(self, transport):
        self.t = transport

    def inspect(self, name: str) -> dict:
        return self.t.call("GET", path_of("/images/{}/json", name))

    def exists(self, name: str) -> bool:
        try:
            self.inspect(name)
        except NotFound:
            return False
        return True

    def matches_platform(self, name: str, platform: str | None) -> bool:
        if not platform:
            return True
        doc = self.inspect(name)
        os_name, _, arch = platform.partition("/")
        return doc.get("Os") == os_name and (not arch or doc.get("Architecture") == arch.split("/")[0])

    def list_rows(self, all_images: bool = False, filters: dict | None = None,
                  repository: str | None = None, show_digests: bool = False,
                  need_digest: bool = False) -> list[dict]:
        """`images` rows from the engine's summaries, built as the local rows are."""
        import time
        from types import SimpleNamespace
        from ..services.image_list import rows_for
        filters = dict(filters or {})
        if repository:
            filters["reference"] = list(filters.get("reference", [])) + [repository]
        now, rows = time.time(), []
        for s in self.t.call("GET", "/images/json", {"all": all_images or None, "filters": filters or None}) or []:
            tags = [t for t in s.get("RepoTags") or [] if t != "<none>:<none>"]
            digests = [d for d in s.get("RepoDigests") or [] if not d.startswith("<none>")]
            rows += rows_for(SimpleNamespace(id=s["Id"], size=s.get("Size") or 0), tags, digests,
                             float(s.get("Created") or 0), now, show_digests, need_digest)
        rows.sort(key=lambda r: (-r["_created"], r["Repository"], r["Tag"]))
        return rows

    def history(self, name: str) -> list[dict]:
        """The engine's HistoryResponseItems as the local history rows (ID, Created in RFC 3339)."""
        from datetime import datetime, timezone
        items = self.t.call("GET", path_of("/images/{}/history", name)) or []
        return [{"ID": i.get("Id") or "<missing>", "CreatedBy": i.get("CreatedBy") or "", "Size": i.get("Size") or 0,
                 "Comment": i.get("Comment") or "", "Tags": i.get("Tags"),
                 "Created": datetime.fromtimestamp(i["Created"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                 if i.get("Created") else ""} for i in items]

    def prune(self, all_images: bool = False) -> tuple[list[str], list[str], int]:
        doc = self.t.call("POST", "/images/prune", {"filters": {"dangling": ["false"]} if all_images else None}) or {}
        items = doc.get("ImagesDeleted") or []
        return ([i["Untagged"] for i in items if "Untagged" in i], [i["Deleted"] for i in items if "Deleted" in i],
                int(doc.get("SpaceReclaimed") or 0))

    def tag(self, source: str, target: str) -> None:
        from ..reference import parse
        ref = parse(target)
        self.t.request("POST", path_of("/images/{}/tag", source),
                       {"repo": ref.name, "tag": ref.tag or "latest"})

    def remove(self, name: str, force: bool = False, prune: bool = True):
        from ..services.images import Removal
        items = self.t.call("DELETE", path_of("/images/{}", name),
                            {"force": force or None, "noprune": (not prune) or None}) or []
        return Removal(untagged=[i["Untagged"] for i in items if "Untagged" in i],
                       deleted=[i["Deleted"] for i in items if "Deleted" in i])


class RemoteRegistry:
    def __init__(self, transport):
        self.t = transport

    def pull(self, name: str, progress, platform: str | None = None, all_tags: bool = False,
             credentials=None) -> list:
        """`POST /images/create`, its JSON progress drawn by the CLI's progress object."""
        from ..reference import parse
        from ..services.registry import Pulled
        ref = parse(name)
        tag = ref.digest or ref.tag or ("" if all_tags else "latest")
        resp = self.t.request("POST", "/images/create", {"fromImage": ref.name, "tag": tag, "platform": platform},
                              headers=_registry_auth(ref.domain))
        digest = _draw(resp, progress)
        full = str(ref if ref.digest else ref.tagged())
        return [Pulled(name=full, image_id="", digest=digest, updated=True)]

    def push(self, name: str, progress, all_tags: bool = False, credentials=None) -> None:
        from ..reference import parse
        ref = parse(name)
        tag = ref.tag or ("" if all_tags else "latest")
        resp = self.t.request("POST", path_of("/images/{}/push", ref.name), {"tag": tag or None},
                              headers=_registry_auth(ref.domain))
        _draw(resp, progress)


def _registry_auth(domain: str) -> dict:
    """X-Registry-Auth as docker/cli sends it: the client's own credentials for the registry
    (its config.json), base64url of a JSON AuthConfig; `{}` when it has none."""
    import base64
    import json
    from ..registry.auth import CredentialStore
    found = CredentialStore().get(domain)
    doc = {"username": found.username, "password": found.password, "serveraddress": domain} if found else {}
    return {"X-Registry-Auth": base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()}


def _draw(resp, progress) -> str:
    """dockerd's JSON progress (pull and push) to the CLI's progress object; the digest it
    reports. An error in the stream is the verb's error."""
    from ..errors import PalletError
    digest = ""
    for msg in resp.lines():
        if msg.get("error"):
            raise PalletError(msg["error"])
        status, layer = msg.get("status") or "", msg.get("id")
        if layer and status.startswith(("Pulling from", "The push refers to")):
            progress.line(f"{layer}: {status}" if status.startswith("Pulling") else status)
        elif layer and status:
            if (msg.get("progressDetail") or {}).get("current") is None:
                progress.layer(layer, status, None)
        elif status:
            if status.startswith("Digest: "):
                digest = status[len("Digest: "):]
            progress.line(status)
    progress.close()
    return digest
