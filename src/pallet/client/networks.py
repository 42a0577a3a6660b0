"""`network ls|create|inspect|rm` over the Engine API: the local NetworkService's methods
and dicts (the engine's network documents are what the local service returns)."""
from __future__ import annotations

from .transport import path_of


class RemoteNetworks:
    def __init__(self, transport):
        self.t = transport

    def list(self, filters: dict | None = None) -> list[dict]:
        nets = self.t.call("GET", "/networks", {"filters": filters or None}) or []
        return sorted(nets, key=lambda n: n["Name"])

    def inspect(self, ref: str) -> dict:
        return self.t.call("GET", path_of("/networks/{}", ref))

    def create(self, req) -> str:
        pools = [{"Subnet": s} for s in req.subnets]
        for i, gateway in enumerate(req.gateways):  # docker/cli pairs them in order
            pools[i]["Gateway"] = gateway
        for i, ip_range in enumerate(req.ip_ranges):
            pools[i]["IPRange"] = ip_range
        if pools and req.aux_addresses:
            pools[0]["AuxiliaryAddresses"] = req.aux_addresses
        body = {"Name": req.name, "Driver": req.driver, "Internal": req.internal, "Labels": req.labels,
                "Options": req.options, "EnableIPv6": req.ipv6, "CheckDuplicate": True,
                "IPAM": {"Driver": req.ipam_driver, "Options": req.ipam_options, "Config": pools}}
        return self.t.call("POST", "/networks/create", body=body)["Id"]

    def remove(self, ref: str) -> None:
        self.t.request("DELETE", path_of("/networks/{}", ref))

    def prune(self, filters: dict | None = None) -> list[str]:
        doc = self.t.call("POST", "/networks/prune", {"filters": filters or None}) or {}
        return doc.get("NetworksDeleted") or []

    def connect(self, network: str, container: str, aliases: list[str], ip: str | None = None,
                ip6: str | None = None) -> None:
        ipam = {k: v for k, v in (("IPv4Address", ip), ("IPv6Address", ip6)) if v}
        self.t.request("POST", path_of("/networks/{}/connect", network), body={
            "Container": container, "EndpointConfig": {"Aliases": aliases or None, "IPAMConfig": ipam or None}})

    def disconnect(self, network: str, container: str, force: bool = False) -> None:
        self.t.request("POST", path_of("/networks/{}/disconnect", network),
                       body={"Container": container, "Force": force})
