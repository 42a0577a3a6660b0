"""A container's files over the API: /containers/{id}/archive (GET, HEAD, PUT), /export,
/changes and /commit, over pallet.services.container_fs (the same code `pallet cp`/`export`/`diff` use,
so no path from a container or an archive reaches outside its root).

The stat header is Docker's X-Docker-Container-Path-Stat: base64 of a JSON
{name, size, mode, mtime, linkTarget} whose mode is a Go os.FileMode.
"""
from __future__ import annotations

import base64
import json
import stat
from datetime import datetime, timezone

from ..errors import InvalidArgument
from .wire import Response, json_response

ID = r"/containers/(?P<ref>[^/]+)"
TAR = "application/x-tar"
_GO_TYPE = [(stat.S_ISDIR, 1 << 31), (stat.S_ISLNK, 1 << 27), (stat.S_ISFIFO, 1 << 25),
            (stat.S_ISSOCK, 1 << 24), (stat.S_ISCHR, (1 << 26) | (1 << 21)), (stat.S_ISBLK, 1 << 26)]


def go_file_mode(mode: int) -> int:
    out = mode & 0o777
    for test, bit in _GO_TYPE:
        if test(mode):
            out |= bit
    if mode & stat.S_ISUID:
        out |= 1 << 23
    if mode & stat.S_ISGID:
        out |= 1 << 22
    if mode & stat.S_ISVTX:
        out |= 1 << 20
    return out


def _fs(service):
    return service.engine().container_fs


def _path(req) -> str:
    path = req.param("path")
    if not path:
        raise InvalidArgument("bad parameter: path cannot be empty")
    return path


def _stat_header(service, ref: str, path: str) -> dict:
    name, st, target = _fs(service).stat(ref, path)
    mtime = datetime.fromtimestamp(st.st_mtime, timezone.utc).isoformat().replace("+00:00", "Z")
    doc = {"name": name, "size": st.st_size, "mode": go_file_mode(st.st_mode), "mtime": mtime,
           "linkTarget": target}
    return {"X-Docker-Container-Path-Stat": base64.b64encode(json.dumps(doc).encode()).decode()}


def head(service, req, ref):
    return Response(200, b"", None, _stat_header(service, ref, _path(req)))


def get(service, req, ref):
    path = _path(req)
    headers = _stat_header(service, ref, path)  # a missing path is a 404 before the stream
    fs = _fs(service)
    return Response(200, _piped(lambda out: fs.archive(ref, path, out)), TAR, headers)


def put(service, req, ref):
    path = _path(req)
    _fs(service).stat(ref, path)  # dockerd: a missing extraction point is a 404, "Could not find the file"
    _fs(service).extract_into(ref, req.reader(), path, archive=req.flag("copyUIDGID"))
    return Response(200)


def export(service, req, ref):
    fs = _fs(service)
    fs.containers.resolve(ref)  # 404 before the stream starts
    return Response(200, _piped(lambda out: fs.export(ref, out)), TAR)


def changes(service, req, ref):
    kinds = {"C": 0, "A": 1, "D": 2}
    return json_response([{"Path": path, "Kind": kinds[kind]} for kind, path in _fs(service).diff(ref)] or None)


def commit(service, req):
    """POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=: `docker commit`.
    Pause defaults to true, as dockerd has it since API 1.13. A Config body (docker-py's
    `conf`) is not merged: the CLI sends none, and `changes` says the same in Dockerfile words."""
    ref = req.param("container") or ""
    repo, tag = req.param("repo") or "", req.param("tag") or ""
    image_id = _fs(service).commit(ref, f"{repo}:{tag}" if repo and tag else repo or None,
                                   req.param("author") or "", req.param("comment") or "",
                                   req.params_list("changes"), req.flag("pause", True))
    return json_response({"Id": image_id}, 201)


def _piped(write):
    from .streams import piped
    return piped(write)


ROUTES = [
    ("HEAD", ID + "/archive", head),
    ("GET", ID + "/archive", get),
    ("PUT", ID + "/archive", put),
    ("GET", ID + "/export", export),
    ("GET", ID + "/changes", changes),
    ("POST", "/commit", commit),
]
