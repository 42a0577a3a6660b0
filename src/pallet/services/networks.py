"""Docker's network use cases: create, ls, inspect, rm, prune, connect, disconnect.

Networks are documents (pallet.network.state); what is live in the kernel is
described by endpoint files and done by pallet.network.sandbox. `bridge`,
`host` and `none` are predefined, as in Docker; `bridge` is the default for run.
"""
from __future__ import annotations

from ..errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from ..network import model
from .network_types import NetworkCreateRequest


class NetworkService:
    """`containers()` is the ContainerService (built on first use): connect/disconnect
    change a container under its lock, and which networks are in use is read from the
    container records."""

    def __init__(self, paths, containers, events):
        self.events = events
        from ..network.sandbox import Sandboxes
        from ..network.state import NetworkState
        self.state = NetworkState(paths.root, paths.runroot)
        self.key = model.store_key(str(paths.runroot))
        self.sandboxes = Sandboxes(self.state, self.key)
        self._containers = containers

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

    def list(self, filters: dict[str, list[str]] | None = None) -> list[dict]:
        """`network ls` / `GET /networks`: the networks `filters` (name, id, driver, type,
        label; parsed) select, sorted by name."""
        self.ensure_defaults()
        nets = [n for n in self.state.networks() if _matches(n, filters or {})]
        return [self._with_containers(n) for n in sorted(nets, key=lambda n: n["Name"])]

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
    def create(self, req: NetworkCreateRequest) -> str:
        """A user-defined bridge network; its ID. `req.options` are the bridge driver's (-o),
        see network.model; with `req.ipv6` an IPv6 subnet and gateway may be given too."""
        import re
        v4 = [s for s in req.subnets if ":" not in s]
        v6 = [s for s in req.subnets if ":" in s]
        gw4 = [g for g in req.gateways if ":" not in g]
        gw6 = [g for g in req.gateways if ":" in g]
        if len(v4) > 1 or len(v6) > 1 or len(gw4) > 1 or len(gw6) > 1:
            raise InvalidArgument("multiple subnets are not supported yet")
        if (v6 or gw6) and not req.ipv6:
            raise InvalidArgument("an IPv6 subnet or gateway needs --ipv6")
        if len(req.ip_ranges) > 1:
            raise InvalidArgument("multiple ip-ranges are not supported yet")
        name, driver, internal, labels = req.name, req.driver or "bridge", req.internal, req.labels
        subnet, gateway = (v4 or [None])[0], (gw4 or [None])[0]
        subnet6, gateway6 = (v6 or [None])[0], (gw6 or [None])[0]
        ip_range, aux_addresses, ipam_driver = (req.ip_ranges or [None])[0], req.aux_addresses, req.ipam_driver
        ipam_options, ipv6 = req.ipam_options, req.ipv6
        if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", name):
            raise InvalidArgument(f'invalid network name "{name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed')
        if driver != "bridge":
            raise NotFound(f'plugin "{driver}" not found')
        if ipam_driver not in ("default", ""):
            raise NotFound(f'plugin "{ipam_driver}" not found')
        if (gateway or ip_range or aux_addresses) and not subnet:
            raise InvalidArgument("every ip-range or gateway must have a corresponding subnet")
        options = dict(req.options or {})
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
        self.events().record("network", "create", doc["Id"], {"name": name, "type": driver})
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
        self.events().record("network", "destroy", net["Id"], {"name": net["Name"], "type": net["Driver"]})
        if net.get("_bridge"):
            self.sandboxes.drop_bridge(net["_bridge"])

    def reset(self) -> None:
        """`system reset`: every bridge, namespace and nft rule of this store's networks gone
        (the documents stay with the store, which the caller deletes)."""
        self.sandboxes.reset([n["_bridge"] for n in self.state.networks() if n.get("_bridge")])

    def prune(self, filters: dict[str, list[str]] | None = None) -> list[str]:
        """Remove user-defined networks no container uses (after reconciling dead endpoints)
        that `filters` (until, label, label!; parsed) select; their names."""
        from ..opts.filters import Filters
        f = Filters(filters)
        f.validate(("until", "label", "label!"))
        until = _until(f.get("until"))
        self.reconcile()
        removed = []
        for net in self.state.networks():
            if net["Name"] in model.PREDEFINED or not _prune_match(net, f, until):
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
        for rec in self._containers().store.all():
            if name in _networks_of(rec):
                return True
        return False

    def reconcile(self) -> None:
        """Tear down endpoints whose container is gone or no longer running (after a crash)."""
        for sb in self.state.sandboxes():
            try:
                if self._containers().get(sb["cid"])["State"]["Running"]:
                    continue
            except NotFound:
                pass
            self.sandboxes.teardown(sb["cid"])
        self.sandboxes.reapply()

    # ---- connect / disconnect ----
    def connect(self, ref: str, container: str, aliases: list[str] = (), ip: str | None = None,
                ip6: str | None = None) -> None:
        from .containers.network import check_endpoint_options, set_networks
        net = self.get(ref)
        svc = self._containers()
        cid = svc.resolve(container)
        with svc.lock(cid):
            rec = svc.get(cid)
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
            if rec["State"]["Running"]:
                settings = self.sandboxes.add_endpoint(cid, net, opts)
                svc.store.update(cid, lambda r: _merge_settings(r, settings))
            svc.store.update(cid, lambda r: set_networks(r, {**_networks_of(r), net["Name"]: opts}))

    def disconnect(self, ref: str, container: str, force: bool = False) -> None:
        from .containers.network import set_networks
        net = self.get(ref)
        svc = self._containers()
        cid = svc.resolve(container)
        with svc.lock(cid):
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
    from .containers.network import networks_of
    return networks_of(rec)


def _matches(net: dict, filters: dict[str, list[str]]) -> bool:
    checks = {
        "name": lambda v: v in net["Name"], "id": lambda v: net["Id"].startswith(v),
        "driver": lambda v: net["Driver"] == v,
        "type": lambda v: (net["Name"] in model.PREDEFINED) == (v == "builtin"),
        "label": lambda v: (lambda k, _, val: k in (net.get("Labels") or {}) and
                            (not _ or net["Labels"][k] == val))(*v.partition("=")),
    }
    for key, values in filters.items():
        check = checks.get(key)
        if check and not any(check(v) for v in values):
            return False
    return True


def _merge_settings(rec: dict, settings: dict) -> None:
    ns = rec.setdefault("NetworkSettings", {"Networks": {}})
    ns.setdefault("Networks", {}).update(settings)


def _until(values: list[str]) -> float | None:
    import time
    from ..opts.timestamps import parse_timestamp
    now = time.time()
    return min((parse_timestamp(v, now) for v in values), default=None)


def _prune_match(net: dict, f, until: float | None) -> bool:
    """Docker's prune filters: every `label` present (with its value if given), no `label!`
    matching, created before `until`."""
    labels = net.get("Labels") or {}
    if not f.match_label(labels, "label"):
        return False
    for item in f.get("label!"):
        key, eq, value = item.partition("=")
        if key in labels and (not eq or labels[key] == value):
            return False
    if until is not None:
        from ..oci.image import parse_time
        return parse_time(net.get("Created")) < until
    return True


def _link_exists(name: str) -> bool:
    from ..network.kernel import link_exists
    return link_exists(name)


def _routes() -> list[str]:
    from ..network.kernel import host_routes
    return host_routes()


def _now() -> str:
    from ..oci.image import now_rfc3339
    return now_rfc3339()
