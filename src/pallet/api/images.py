"""/images/...: list, inspect, history, tag, delete, pull (create), push, get, load, prune.

Names may hold slashes (`localhost:5000/a/b:1`), so their routes match greedily up
to the verb. Progress (pull, push, load) leaves the core as calls on a progress
object; `JsonProgress` turns them into dockerd's JSON message stream.
"""
from __future__ import annotations

from ..errors import InvalidArgument
from .progress import JsonProgress, stream_from_worker
from .wire import Response, json_response, quick

NAME = r"/images/(?P<name>.+)"


def _images(service):
    return service.engine().images


@quick
def list_images(service, req):
    from ..dockerjson.image_summary import image_summaries
    svc = _images(service)
    filters = req.filters()
    rows = svc.list_rows(all_images=req.flag("all"), filters=filters)
    return json_response(image_summaries(svc, rows))


@quick
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
    out = _images(service).remove(name, force=req.flag("force"), prune=not req.flag("noprune"))
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
    credentials = req.registry_auth()

    def work(progress):
        service.engine().registry.pull(image, progress, platform, credentials=credentials)
    return stream_from_worker(work, service)


def _import(service, req):
    src = req.param("fromSrc")
    repo = req.param("repo") or None
    target = f"{repo}:{req.param('tag')}" if repo and req.param("tag") else repo
    changes, message = req.params_list("changes"), req.param("message") or ""
    if src != "-":  # dockerd fetches the URL itself; one without a scheme is http://
        url = src if "://" in src else f"http://{src}"
        image_id = _images(service).import_url(url, target, changes, message, req.param("platform") or None)
        return json_response({"status": image_id})
    image_id = _images(service).import_tar(req.reader(), "-", target, changes, message,
                                           req.param("platform") or None)
    return json_response({"status": image_id})


def push(service, req, name):
    tag = req.param("tag")
    image = f"{name}:{tag}" if tag else name
    credentials = req.registry_auth()

    def work(progress):
        for tag_name, digest, size in service.engine().registry.push(image, progress, credentials=credentials):
            # dockerd ends each tag with this aux message (docker/cli's content trust reads it)
            progress.put({"progressDetail": {}, "aux": {"Tag": tag_name.rsplit(":", 1)[-1],
                                                         "Digest": digest, "Size": size}})
    return stream_from_worker(work, service)


def save(service, req, name=None):
    """GET /images/{name}/get and GET /images/get?names=a&names=b: a docker-archive."""
    from .streams import piped
    names = [name] if name else req.params_list("names")
    if not names:
        raise InvalidArgument("no images named")
    svc = _images(service)
    for n in names:
        svc.resolve(n)  # a missing image is a 404 before the archive starts
    transfer = service.engine().transfer
    return Response(200, piped(lambda out: transfer.save(names, out)), "application/x-tar")


def load(service, req):
    """POST /images/load: the archive is the body; `Loaded image: ...` lines as stream messages."""
    import tempfile
    body = tempfile.SpooledTemporaryFile(16 * 1024 * 1024)
    for chunk in req.chunks():
        body.write(chunk)
    body.seek(0)

    def work(progress):
        try:
            for line in service.engine().transfer.load(body):
                progress.put({"stream": line + "\n"})
        finally:
            body.close()
    return stream_from_worker(work, service)


def prune(service, req):
    filters = req.filters()
    dangling = filters.get("dangling", ["true"])[-1].lower() in ("1", "true")
    untagged, deleted, freed = _images(service).prune(all_images=not dangling)
    return json_response({"ImagesDeleted": [{"Untagged": u} for u in untagged] + [{"Deleted": d} for d in deleted]
                          or None, "SpaceReclaimed": freed})


def search(service, req):
    """GET /images/search: the registries' catalogs, as `pallet search` (RegistryService.search)."""
    found = service.engine().registry.search(req.param("term") or "", req.int_param("limit"), req.filters())
    return json_response(found)


def distribution(service, req, name):
    """GET /distribution/{name}/json: the registry's descriptor and platforms for `name`."""
    return json_response(service.engine().registry.distribution(name, req.registry_auth()))


ROUTES = [
    ("GET", r"/distribution/(?P<name>.+)/json", distribution),
    ("GET", "/images/search", search),
    ("GET", "/images/get", save),
    ("POST", "/images/load", load),
    ("POST", "/images/prune", prune),
    ("GET", NAME + "/get", save),
    ("GET", "/images/json", list_images),
    ("POST", "/images/create", pull),
    ("GET", NAME + "/json", inspect),
    ("GET", NAME + "/history", history),
    ("POST", NAME + "/tag", tag),
    ("POST", NAME + "/push", push),
    ("DELETE", NAME, remove),
]
_ = JsonProgress
