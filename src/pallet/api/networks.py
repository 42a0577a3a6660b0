"""/networks/...: list, inspect, create, remove, connect, disconnect, prune."""
from __future__ import annotations

from ..errors import InvalidArgument
from .wire import check_type, json_response, no_content

ID = r"/networks/(?P<ref>[^/]+)"


def _nets(service):
    return service.engine().networks


def list_networks(service, req):
    return json_response(sorted(_nets(service).list(req.filters()), key=lambda n: n["Name"]))


def inspect(service, req, ref):
    return json_response(_nets(service).inspect(ref))


def create(service, req):
    body = req.json(required=True)
    for key, kind in (("Name", str), ("Driver", str), ("Internal", bool), ("Labels", dict), ("IPAM", dict)):
        check_type(body, key, kind, "NetworkCreateRequest.")
    if not body.get("Name"):
        raise InvalidArgument("invalid network name: name is required")
    from ..services.network_types import NetworkCreateRequest
    configs = [c for c in (body.get("IPAM") or {}).get("Config") or [] if isinstance(c, dict)]
    nid = _nets(service).create(NetworkCreateRequest(
        name=body["Name"], driver=body.get("Driver") or "bridge",
        subnets=[c["Subnet"] for c in configs if c.get("Subnet")],
        gateways=[c["Gateway"] for c in configs if c.get("Gateway")],
        internal=bool(body.get("Internal")), labels=dict(body.get("Labels") or {})))
    return json_response({"Id": nid, "Warning": ""}, 201)


def remove(service, req, ref):
    _nets(service).remove(ref)
    return no_content()


def connect(service, req, ref):
    body = req.json(required=True)
    check_type(body, "Container", str, "NetworkConnectRequest.")
    ep = body.get("EndpointConfig") or {}
    ip = (ep.get("IPAMConfig") or {}).get("IPv4Address") or None
    _nets(service).connect(ref, body.get("Container") or "", list(ep.get("Aliases") or []), ip)
    return json_response({}, 200)


def disconnect(service, req, ref):
    body = req.json(required=True)
    check_type(body, "Container", str, "NetworkDisconnectRequest.")
    _nets(service).disconnect(ref, body.get("Container") or "", bool(body.get("Force")))
    return json_response({}, 200)


def prune(service, req):
    return json_response({"NetworksDeleted": _nets(service).prune(req.filters()) or None})


ROUTES = [
    ("GET", "/networks", list_networks),
    ("POST", "/networks/create", create),
    ("POST", "/networks/prune", prune),
    ("GET", ID, inspect),
    ("DELETE", ID, remove),
    ("POST", ID + "/connect", connect),
    ("POST", ID + "/disconnect", disconnect),
]
