"""POST /build (the classic builder, as `DOCKER_BUILDKIT=0 docker build` speaks it) and
POST /build/prune.

The body is the context as a tar (plain or compressed); it is spooled before the
build starts (the connection's thread owns the socket, the build runs in its own
thread with its own Engine). The core's step lines and RUN output become
`{"stream": ...}` messages, the result `{"aux": {"ID": ...}}`, a failure the
stream's last message (`errorDetail`), as dockerd writes them.
"""
from __future__ import annotations

import tempfile

from .progress import stream_from_worker
from .wire import json_response

SPOOL = 16 * 1024 * 1024


class _Output:
    """RUN output (bytes) as `stream` messages."""

    def __init__(self, put):
        self.put = put

    def write(self, data) -> int:
        if data:
            self.put({"stream": bytes(data).decode("utf-8", "replace")})
        return len(data)

    def flush(self) -> None:
        pass


def build(service, req):
    from ..reference import familiar
    from ..services.build_types import BuildSource
    tags = req.params_list("t")
    build_args = {k: v for k, v in req.json_object("buildargs").items() if v is not None}
    labels = req.json_object("labels")
    network = req.param("networkmode") or None
    quiet = req.flag("q")
    # as `build --pull` / `--platform`: refresh the base images; the host's platform only
    pull, platform = req.flag("pull"), req.param("platform") or None
    cache_from = req.json_list("cachefrom")  # as `build --cache-from`: images' inline cache
    body = tempfile.SpooledTemporaryFile(SPOOL)
    for chunk in req.chunks():
        body.write(chunk)
    body.seek(0)
    epoch = build_args.get("SOURCE_DATE_EPOCH")

    def work(progress):
        put = progress.put
        emit = (lambda line: None) if quiet else (lambda line: put({"stream": line + "\n"}))
        try:
            result = service.engine().builds.build(
                BuildSource("-", req.param("dockerfile") or None, body), emit, None if quiet else _Output(put),
                tags=tags, build_args=build_args, target=req.param("target") or None,
                no_cache=req.flag("nocache"), labels=labels,
                network=None if network in (None, "default") else network,
                source_date_epoch=int(epoch) if epoch and epoch.isdigit() else None,
                pull=pull, platform=platform, cache_from=cache_from)
        finally:
            body.close()
        put({"aux": {"ID": result.image_id}})
        if quiet:
            put({"stream": result.image_id + "\n"})
            return
        if result.unused_args:
            put({"stream": f"[Warning] One or more build-args [{' '.join(result.unused_args)}] were not consumed\n"})
        put({"stream": f"Successfully built {result.image_id.split(':', 1)[1][:12]}\n"})
        for tag in result.tags:
            put({"stream": f"Successfully tagged {familiar(tag)}\n"})
    return stream_from_worker(work, service)


def prune(service, req):
    entries, freed = service.engine().builds.prune()
    return json_response({"CachesDeleted": [], "SpaceReclaimed": freed})


ROUTES = [
    ("POST", "/build", build),
    ("POST", "/build/prune", prune),
]
