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
    for key, kind in (("Name", str), ("Driver", str), ("Internal", bool), ("Labels", dict), ("IPAM", dict),
                      ("Options", dict), ("EnableIPv6", bool)):
        check_type(body, key, kind, "NetworkCreateRequest.")
    if not body.get("Name"):
        raise InvalidArgument("invalid network name: name is required")
    from ..services.network_types import NetworkCreateRequest
    ipam = body.get("IPAM") or {}
    configs = [c for c in ipam.get("Config") or [] if isinstance(c, dict)]
    aux = {k: v for c in configs for k, v in (c.get("AuxiliaryAddresses") or {}).items()}
    nid = _nets(service).create(NetworkCreateRequest(
        name=body["Name"], driver=body.get("Driver") or "bridge",
        subnets=[c["Subnet"] for c in configs if c.get("Subnet")],
        gateways=[c["Gateway"] for c in configs if c.get("Gateway")],
        internal=bool(body.get("Internal")), labels=dict(body.get("Labels") or {}),
        ip_ranges=[c["IPRange"] for c in configs if c.get("IPRange")], aux_addresses=aux,
        options=dict(body.get("Options") or {}), ipam_driver=ipam.get("Driver") or "default",
        ipam_options=dict(ipam.get("Options") or {}), ipv6=bool(body.get("EnableIPv6"))))
    return json_response({"Id": nid, "Warning": ""}, 201)


def remove(service, req, ref):
    _nets(service).remove(ref)
    return no_content()


def connect(service, req, ref):
    body = req.json(required=True)
    check_type(body, "Container", str, "NetworkConnectRequest.")
    ep = body.get("EndpointConfig") or {}
    ipam = ep.get("IPAMConfig") or {}
    _nets(service).connect(ref, body.get("Container") or "", list(ep.get("Aliases") or []),
                           ipam.get("IPv4Address") or None, ipam.get("IPv6Address") or None)
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
