"""/images/...: list, inspect, history, tag, delete, pull (create), push, get, load, prune.

Names may hold slashes (`localhost:5000/a/b:1`), so their routes match greedily up
to the verb. Progress (pull, push, load) leaves the core as calls on a progress
object; `JsonProgress` turns them into dockerd's JSON message stream.
"""
from __future__ import annotations

from ..errors import InvalidArgument
from .progress import JsonProgress, stream_from_worker
from .wire import Response, json_response

NAME = r"/images/(?P<name>.+)"


def _images(service):
    return service.engine().images


def list_images(service, req):
    from ..dockerjson.image_summary import image_summaries
    svc = _images(service)
    filters = req.filters()
    rows = svc.list_rows(all_images=req.flag("all"), filters=filters)
    return json_response(image_summaries(svc, rows))


def inspect(service, req, name):
    return json_response(_images(service).inspect(name))


def history(service, req, name):
    from ..dockerjson.image_summary import history_items
    return json_response(history_items(_images(service).history(name)))


def tag(service, req, name):
    repo = req.param("repo")
    if not repo:
        raise InvalidArgument("repository name must have at least one component")
    target = f"{repo}:{req.param('tag')}" if req.param("tag") else repo
    _images(service).tag(name, target)
    return Response(201)


def remove(service, req, name):
    svc = _images(service)
    users = service.engine().containers.image_users
    out = svc.remove(name, force=req.flag("force"), prune=not req.flag("noprune"), users=users)
    return json_response([{"Untagged": u} for u in out.untagged] + [{"Deleted": d} for d in out.deleted])


def pull(service, req):
    """POST /images/create?fromImage=NAME&tag=TAG: a pull, reported as dockerd reports it."""
    if req.param("fromSrc"):
        return _import(service, req)
    image = req.param("fromImage")
    if not image:
        raise InvalidArgument("fromImage or fromSrc is required")
    tag = req.param("tag")
    if tag:
        image = f"{image}@{tag}" if tag.startswith("sha256:") else f"{image}:{tag}"
    platform = req.param("platform") or None

    def work(progress):
        service.engine().registry.pull(image, progress, platform)
    return stream_from_worker(work)


def _import(service, req):
    src = req.param("fromSrc")
    if src != "-":
        raise InvalidArgument("importing from a URL is not supported: send the archive as the body (fromSrc=-)")
    import io
    repo = req.param("repo") or None
    target = f"{repo}:{req.param('tag')}" if repo and req.param("tag") else repo
    image_id = _images(service).import_tar(io.BytesIO(req.body()), "-", target,
                                           req.params_list("changes"), req.param("message") or "")
    return json_response({"status": image_id})


def push(service, req, name):
    tag = req.param("tag")
    image = f"{name}:{tag}" if tag else name

    def work(progress):
        service.engine().registry.push(image, progress)
    return stream_from_worker(work)


ROUTES = [
    ("GET", "/images/json", list_images),
    ("POST", "/images/create", pull),
    ("GET", NAME + "/json", inspect),
    ("GET", NAME + "/history", history),
    ("POST", NAME + "/tag", tag),
    ("POST", NAME + "/push", push),
    ("DELETE", NAME, remove),
]
_ = JsonProgress
