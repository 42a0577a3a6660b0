"""Docker's network use cases: create, ls, inspect, rm, prune, connect, disconnect.

Networks are documents (pallet.network.state); what is live in the kernel is
described by endpoint files and done by pallet.network.sandbox. `bridge`,
`host` and `none` are predefined, as in Docker; `bridge` is the default for run.
"""
from __future__ import annotations

from ..errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from ..network import model


class NetworkService:
    def __init__(self, engine):
        from ..network.sandbox import Sandboxes
        from ..network.state import NetworkState
        self.engine = engine
        self.state = NetworkState(engine.paths.root, engine.paths.runroot)
        self.key = model.store_key(str(engine.paths.runroot))
        self.sandboxes = Sandboxes(self.state, self.key)

    # ---- documents ----
    def ensure_defaults(self) -> None:
        if self.state.network("bridge") is not None:
            return
        with self.state.locked():
            if self.state.network("bridge") is not None:
                return
            subnet, gateway = model.pick_subnet(self.key, self._subnets(), _routes())
            for name, driver in (("bridge", "bridge"), ("host", "host"), ("none", "null")):
                bridge = model.bridge_name(self.key, 0) if name == "bridge" else ""
                sub = (subnet, gateway) if name == "bridge" else ("", "")
                doc = model.new_network(name, driver, *sub, bridge, created=_now())
                if name == "bridge":
                    doc["Options"].update({"com.docker.network.bridge.default_bridge": "true",
                                           "com.docker.network.bridge.enable_ip_masquerade": "true"})
                self.state.save_network(doc)

    def _subnets(self) -> list[str]:
        return [s[0] for s in (model.subnet_of(n) for n in self.state.networks()) if s]

    def get(self, ref: str) -> dict:
        self.ensure_defaults()
        doc = self.state.network(ref) if "/" not in ref else None
        if doc:
            return doc
        nets = self.state.networks()
        match = [n for n in nets if n["Id"] == ref] or [n for n in nets if ref and n["Id"].startswith(ref)]
        if len(match) == 1:
            return match[0]
        if len(match) > 1:
            raise InvalidArgument(f"network {ref} is ambiguous ({len(match)} matches found based on ID prefix)")
        raise NotFound(f"network {ref} not found")

    def exists(self, ref: str) -> bool:
        try:
            self.get(ref)
            return True
        except NotFound:
            return False

    def list(self) -> list[dict]:
        self.ensure_defaults()
        return [self._with_containers(n) for n in self.state.networks()]

    def inspect(self, ref: str) -> dict:
        try:
            return self._with_containers(self.get(ref))
        except NotFound:
            raise NotFound(f"No such network: {ref}") from None

    def _with_containers(self, net: dict) -> dict:
        doc = {k: v for k, v in net.items() if not k.startswith("_")}
        members = {}
        for sb in self.state.sandboxes():
            for ep in sb["endpoints"]:
                if ep["network_id"] == net["Id"]:
                    members[sb["cid"]] = {"Name": sb["name"], "EndpointID": ep["endpoint_id"],
                                          "MacAddress": ep["mac"], "IPv4Address": f"{ep['ip']}/{ep['prefix']}",
                                          "IPv6Address": ""}
        keys = list(doc)
        doc["Containers"] = members
        order = keys[:keys.index("ConfigOnly") + 1] + ["Containers"] + keys[keys.index("ConfigOnly") + 1:]
        return {k: doc[k] for k in order}

    # ---- create / rm / prune ----
    def create(self, name: str, driver: str = "bridge", subnet: str | None = None, gateway: str | None = None,
               internal: bool = False, labels: dict | None = None, *, ip_range: str | None = None,
               aux_addresses: dict | None = None, options: dict | None = None,
               ipam_driver: str = "default", ipam_options: dict | None = None, ipv6: bool = False,
               subnet6: str | None = None, gateway6: str | None = None) -> str:
        """`network create`; `options` are the bridge driver's (-o), see network.model."""
        import re
        if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", name):
            raise InvalidArgument(f'invalid network name "{name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed')
        if driver != "bridge":
            raise NotFound(f'plugin "{driver}" not found')
        if ipam_driver not in ("default", ""):
            raise NotFound(f'plugin "{ipam_driver}" not found')
        if (gateway or ip_range or aux_addresses) and not subnet:
            raise InvalidArgument("every ip-range or gateway must have a corresponding subnet")
        options = dict(options or {})
        model.check_bridge_options(options)
        self.ensure_defaults()
        with self.state.locked():
            if self.state.network(name) is not None or name in model.PREDEFINED:
                raise AlreadyExists(f"network with name {name} already exists")
            if subnet:
                subnet, gateway = model.check_subnet(subnet, gateway, self._subnets())
                model.check_ipam(subnet, ip_range, aux_addresses or {})
            else:
                subnet, gateway = model.pick_subnet(self.key, self._subnets(), _routes())
            bridge = options.pop(model.BRIDGE_NAME, None) or self._free_bridge()
            if any(n.get("_bridge") == bridge for n in self.state.networks()) or (
                    bridge != self._free_bridge() and _link_exists(bridge)):
                raise Conflict(f"bridge name {bridge} is already in use")
            doc = model.new_network(name, driver, subnet, gateway, bridge, internal, labels,
                                    created=_now(), ipam_extra={"IPRange": ip_range,
                                                                "AuxiliaryAddresses": aux_addresses},
                                    ipam_options=ipam_options, options=options)
            if ipv6:
                self._add_ipv6(doc, subnet6, gateway6)
            self.state.save_network(doc)
        return doc["Id"]

    def _add_ipv6(self, doc: dict, subnet6: str | None, gateway6: str | None) -> None:
        from ..network import ipv6
        taken = [s[0] for s in (ipv6.subnet6_of(n) for n in self.state.networks()) if s]
        if subnet6:
            subnet6, gateway6 = ipv6.check_subnet6(subnet6, gateway6, taken)
        else:
            subnet6, gateway6 = ipv6.pick_subnet6(doc["Id"])
            ipv6.check_subnet6(subnet6, None, taken)
        doc["EnableIPv6"] = True
        doc["IPAM"]["Config"].append({"Subnet": subnet6, "Gateway": gateway6})

    def _free_bridge(self) -> str:
        used = {n.get("_bridge") for n in self.state.networks()}
        return next(model.bridge_name(self.key, i) for i in range(1, 10000)
                    if model.bridge_name(self.key, i) not in used)

    def remove(self, ref: str) -> None:
        net = self.get(ref)
        if net["Name"] in model.PREDEFINED:
            raise Conflict(f"{net['Name']} is a pre-defined network and cannot be removed")
        with self.state.locked():
            if any(ep["network_id"] == net["Id"] for sb in self.state.sandboxes() for ep in sb["endpoints"]):
                raise Conflict(f"error while removing network: network {net['Name']} id {net['Id']} "
                               "has active endpoints")
            self.state.delete_network(net["Name"])
        if net.get("_bridge"):
            self.sandboxes.drop_bridge(net["_bridge"])

    def reset(self) -> None:
        """`system reset`: every bridge, namespace and nft rule of this store's networks gone
        (the documents stay with the store, which the caller deletes)."""
        self.sandboxes.reset([n["_bridge"] for n in self.state.networks() if n.get("_bridge")])

    def prune(self, labels: dict | None = None, until: float | None = None) -> list[str]:
        """Remove user-defined networks no container uses (after reconciling dead endpoints);
        with `until` (a Unix time), only those created before it."""
        from ..oci.image import parse_time
        self.reconcile()
        removed = []
        for net in self.state.networks():
            if net["Name"] in model.PREDEFINED or not _labels_match(net, labels or {}):
                continue
            if until is not None and net.get("Created") and parse_time(net["Created"]) >= until:
                continue
            if self._referenced(net["Name"]):
                continue
            try:
                self.remove(net["Name"])
                removed.append(net["Name"])
            except Conflict:
                continue
        return removed

    def _referenced(self, name: str) -> bool:
        for rec in self.engine.containers.store.all():
            if name in _networks_of(rec):
                return True
        return False

    def reconcile(self) -> None:
        """Tear down endpoints whose container is gone or no longer running (after a crash)."""
        from . import container_status as status
        for sb in self.state.sandboxes():
            try:
                rec = status.refresh(self.engine.containers, self.engine.containers.store.get(sb["cid"]))
                if rec["State"]["Running"]:
                    continue
            except NotFound:
                pass
            self.sandboxes.teardown(sb["cid"])
        self.sandboxes.reapply()

    # ---- connect / disconnect ----
    def connect(self, ref: str, container: str, aliases: list[str] = (), ip: str | None = None,
                ip6: str | None = None) -> None:
        from .container_network import check_endpoint_options, set_networks
        net = self.get(ref)
        svc = self.engine.containers
        cid = svc.resolve(container)
        with svc._locked(cid):
            rec = svc.store.get(cid)
            nets = _networks_of(rec)
            if net["Name"] in nets:
                raise Conflict(f"endpoint with name {rec['Name'].lstrip('/')} already exists in network "
                               f"{net['Name']}")
            mode = rec["HostConfig"].get("NetworkMode") or ""
            if mode in ("host", "none") or mode.startswith("container:") or net["Name"] in ("host", "none"):
                raise Conflict(f"container cannot be disconnected from host network or connected to "
                               f"host network" if "host" in (mode, net["Name"]) else
                               f"container {cid} is not connected to a bridge network")
            opts = check_endpoint_options(net, list(aliases), ip, ip6=ip6)
            from . import container_status as status
            if status.refresh(svc, rec)["State"]["Running"]:
                settings = self.sandboxes.add_endpoint(cid, net, opts)
                svc.store.update(cid, lambda r: _merge_settings(r, settings))
            svc.store.update(cid, lambda r: set_networks(r, {**_networks_of(r), net["Name"]: opts}))

    def disconnect(self, ref: str, container: str, force: bool = False) -> None:
        from .container_network import set_networks
        net = self.get(ref)
        svc = self.engine.containers
        cid = svc.resolve(container)
        with svc._locked(cid):
            rec = svc.store.get(cid)
            if net["Name"] not in _networks_of(rec):
                raise Conflict(f"container {cid} is not connected to network {net['Name']}")
            self.sandboxes.remove_endpoint(cid, net)
            rest = {k: v for k, v in _networks_of(rec).items() if k != net["Name"]}

            def change(r):
                set_networks(r, rest)
                if not rest:
                    r["HostConfig"]["NetworkMode"] = "none"
                elif r["HostConfig"].get("NetworkMode") == net["Name"]:
                    r["HostConfig"]["NetworkMode"] = next(iter(rest))
                ns = r.get("NetworkSettings") or {}
                (ns.get("Networks") or {}).pop(net["Name"], None)
            svc.store.update(cid, change)


def _networks_of(rec: dict) -> dict:
    from .container_network import networks_of
    return networks_of(rec)


def _merge_settings(rec: dict, settings: dict) -> None:
    ns = rec.setdefault("NetworkSettings", {"Networks": {}})
    ns.setdefault("Networks", {}).update(settings)


def _labels_match(net: dict, wanted: dict) -> bool:
    have = net.get("Labels") or {}
    return all(k in have and (v is None or have[k] == v) for k, v in wanted.items())


def _link_exists(name: str) -> bool:
    from ..network.kernel import link_exists
    return link_exists(name)


def _routes() -> list[str]:
    from ..network.kernel import host_routes
    return host_routes()


def _now() -> str:
    from ..oci.image import now_rfc3339
    return now_rfc3339()
