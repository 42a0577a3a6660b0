"""/_ping, /version, /info, /auth, /system/df: what a client asks first.

`/_ping` is how docker/cli negotiates: it reads API-Version (the newest pallet
speaks) and Builder-Version ("1": the classic builder, `POST /build`).
"""
from __future__ import annotations

import os
import platform

from .router import API_VERSION, MIN_API_VERSION
from .wire import Response, json_response, quick

GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}
PING_HEADERS = {"Builder-Version": "1", "Cache-Control": "no-cache, no-store, must-revalidate",
                "Pragma": "no-cache", "Swarm": "inactive"}


@quick
def ping(service, req):
    body = b"" if req.method == "HEAD" else b"OK"
    return Response(200, body, "text/plain; charset=utf-8", PING_HEADERS)


@quick
def version(service, req):
    from .. import __version__
    arch = GO_ARCH.get(platform.machine(), platform.machine())
    details = {"ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION, "Os": "linux", "Arch": arch,
               "KernelVersion": platform.release(), "Experimental": "false"}
    return json_response({
        "Platform": {"Name": "pallet"},
        "Components": [{"Name": "Engine", "Version": __version__, "Details": details}],
        "Version": __version__, "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "", "GoVersion": f"python{platform.python_version()}", "Os": "linux", "Arch": arch,
        "KernelVersion": platform.release(), "BuildTime": "",
    })


def info(service, req):
    eng = service.engine()
    doc = dict(eng.system.info())
    doc.setdefault("ID", _engine_id(eng))
    doc.setdefault("Name", platform.node())
    doc.setdefault("OSType", "linux")
    doc.setdefault("MemTotal", os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    doc.setdefault("Swarm", {"LocalNodeState": "inactive", "NodeID": "", "NodeAddr": "",
                             "ControlAvailable": False, "Error": "", "RemoteManagers": None})
    doc.setdefault("Runtimes", {"runc": {"path": "runc"}})
    doc.setdefault("Plugins", {"Volume": ["local"], "Network": ["bridge", "host", "none"],
                               "Authorization": None, "Log": ["k8s-file", "json-file"]})
    doc.setdefault("SecurityOptions", ["name=seccomp,profile=builtin"])
    doc.setdefault("LoggingDriver", "k8s-file")
    doc.setdefault("CgroupDriver", "cgroupfs")
    doc.setdefault("IndexServerAddress", "https://index.docker.io/v1/")
    doc.setdefault("RegistryConfig", {"IndexConfigs": {}, "InsecureRegistryCIDRs": ["127.0.0.0/8"]})
    return json_response(doc)


def df(service, req):
    """GET /system/df: Docker's DiskUsage from the listings `images`, `ps -s` and `volume ls`
    give, with each image's container count and each volume's users."""
    from ..dockerjson.container_summary import container_summary
    from ..dockerjson.image_summary import image_summaries
    from ..services.container_types import ListRequest
    eng = service.engine()
    records = eng.containers.list(ListRequest(all=True, size=True))
    users: dict[str, int] = {}
    for r in records:
        users[r["Image"]] = users.get(r["Image"], 0) + 1
    images = image_summaries(eng.images, eng.images.list_rows(all_images=False))  # as dockerd: no build steps
    for item in images:
        item["Containers"] = users.get(item["Id"], 0)
    containers = []
    for r in records:
        summary = container_summary(eng.containers, r)
        summary.update(SizeRw=r.get("SizeRw", 0), SizeRootFs=r.get("SizeRootFs", 0))
        containers.append(summary)
    usage = eng.volumes.usage()
    volumes = []
    for v in eng.volumes.list():
        doc = v.inspect()
        doc["UsageData"] = {"Size": eng.volumes.content_size(v), "RefCount": len(usage.get(v.name, []))}
        volumes.append(doc)
    return json_response({"LayersSize": sum(i["Size"] for i in images), "Images": images,
                          "Containers": containers, "Volumes": volumes, "BuildCache": []})


def _engine_id(eng) -> str:
    """A stable ID for this store (Docker's engine ID): its root path, hashed."""
    import hashlib
    return hashlib.sha256(str(eng.paths.root).encode()).hexdigest()[:36]


def auth(service, req):
    body = req.json(required=True)
    token = service.engine().registry.login(body.get("serveraddress") or None,
                                            body.get("username") or "", body.get("password") or "")
    return json_response({"Status": token or "Login Succeeded", "IdentityToken": ""})


def events(service, req):
    """GET /events: the journal from `since` (default: now), followed unless `until` is given."""
    import json
    import time
    now = time.time()
    since, until = _epoch(req.param("since")), _epoch(req.param("until"))
    follow = until is None or until > now
    docs = service.engine().events.read(now if since is None else since, until, req.filters(), follow=follow)
    return Response(200, ((json.dumps(d) + "\n").encode() for d in docs), "application/json")


def _epoch(text: str | None) -> float | None:
    from ..errors import InvalidArgument
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidArgument(f"invalid timestamp: {text!r}") from None


ROUTES = [
    ("GET", "/events", events),
    ("GET", "/system/df", df),
    ("GET", "/_ping", ping),
    ("GET", "/version", version),
    ("GET", "/info", info),
    ("POST", "/auth", auth),
]
