"""/volumes/...: list, create, inspect, remove, prune over the VolumeService."""
from __future__ import annotations

from .wire import check_type, json_response, no_content

NAME = r"/volumes/(?P<name>[^/]+)"


def _vols(service):
    return service.engine().volumes


def list_volumes(service, req):
    return json_response({"Volumes": [v.inspect() for v in _vols(service).list(req.filters())], "Warnings": []})


def create(service, req):
    body = req.json()
    for key, kind in (("Name", str), ("Driver", str), ("DriverOpts", dict), ("Labels", dict)):
        check_type(body, key, kind, "VolumeCreateOptions.")
    vol = _vols(service).create(body.get("Name") or None, body.get("Driver") or "local",
                                body.get("Labels") or {}, body.get("DriverOpts") or {})
    return json_response(vol.inspect(), 201)


def inspect(service, req, name):
    return json_response(_vols(service).inspect(name))


def remove(service, req, name):
    _vols(service).remove(name, force=req.flag("force"))
    return no_content()


def prune(service, req):
    names, freed = _vols(service).prune(filters=req.filters())
    return json_response({"VolumesDeleted": names, "SpaceReclaimed": freed})


ROUTES = [
    ("GET", "/volumes", list_volumes),
    ("POST", "/volumes/create", create),
    ("POST", "/volumes/prune", prune),
    ("GET", NAME, inspect),
    ("DELETE", NAME, remove),
]
