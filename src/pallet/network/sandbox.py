"""A container's network sandbox: its namespace, endpoints and published ports, live.

`create` plans everything first (addresses, ports), records it in the endpoint
file, then applies it (ip, nft, aardvark-dns); if applying fails it tears down
what the file describes and re-raises, so nothing is left half set up.
`teardown` is idempotent and works from the file alone (after kill -9 or a
crash of pallet). All of it runs under the store's network lock.

A network's bridge, once made, stays until the network is removed (as docker0
stays): deleting a bridge costs the kernel ~45 ms of RCU waits, making one ~5 ms.
A stopped container's namespace is unmounted and the kernel destroys it, and its
veth pair with it, in the background (deleting the veth ourselves waits ~15 ms).
The nft table is only rewritten when its text changes: a container without
published ports starts and stops without running `nft` at all.
"""
from __future__ import annotations

import os

from . import dns, ipv6, kernel, model, plan
from . import ports as portmod


class Sandboxes:
    def __init__(self, state, key: str):
        self.state, self.key = state, key
        self.table = model.table_name(key)

    def create(self, cid: str, name: str, networks: list[tuple[dict, dict]], port_specs: list) -> dict:
        with self.state.locked():
            others = [sb for sb in self.state.sandboxes() if sb["cid"] != cid]
            if self.state.sandbox(cid):
                self._teardown_locked(cid, others)
            sb = {"cid": cid, "name": name, "netns": str(self.state.run_dir / "netns" / cid),
                  "sandbox_id": os.urandom(32).hex(), "endpoints": [], "ports": []}
            for net, opts in networks:
                sb["endpoints"].append(self._plan_endpoint(cid, net, opts, others, sb["endpoints"]))
            primary = next((ep for ep in sb["endpoints"] if not ep["internal"]), None)
            if primary and primary.get("host_binding"):  # -o ...host_binding_ipv4: -p's default IP
                port_specs = [(ip or primary["host_binding"], *rest) for ip, *rest in port_specs]
            if primary and port_specs:
                taken = [p for o in others for p in o["ports"]] + portmod.other_stores(self.key)
                sb["ports"] = portmod.allocate(port_specs, taken, name, primary["ip"], cid)
            self.state.save_sandbox(sb)
            try:
                self._apply(sb, sb["endpoints"], others, create_ns=True)
            except BaseException:
                self._teardown_locked(cid, others)
                raise
            return sb

    def _plan_endpoint(self, cid: str, net: dict, opts: dict, others: list[dict], mine: list[dict]) -> dict:
        subnet, gateway = model.subnet_of(net)
        config = net["IPAM"]["Config"][0]
        used = {ep["ip"] for sb in others for ep in sb["endpoints"] if ep["network_id"] == net["Id"]}
        used |= set((config.get("AuxiliaryAddresses") or {}).values())
        ip = model.pick_ip(subnet, gateway, used, opts.get("ip"), config.get("IPRange"))
        index = len(mine)
        options = net.get("Options") or {}
        six = _plan_ipv6(net, opts, others)
        return {**six,
                "mtu": int(options[model.MTU]) if model.MTU in options else None,
                "host_binding": options.get(model.HOST_BINDING),"network": net["Name"], "network_id": net["Id"], "endpoint_id": os.urandom(32).hex(),
                "bridge": net["_bridge"], "subnet": subnet, "gateway": gateway, "ip": ip,
                "prefix": int(subnet.split("/")[1]), "mac": opts.get("mac") or model.mac_of(ip),
                "veth": model.veth_name(cid, index), "ifname": f"eth{index}",
                "aliases": list(opts.get("aliases") or []), "dns": bool(net.get("_dns")),
                "internal": bool(net.get("Internal"))}

    def _apply(self, sb: dict, endpoints: list[dict], others: list[dict], create_ns: bool) -> None:
        new = {ep["bridge"]: ep for ep in endpoints if not kernel.bridge_exists(ep["bridge"])}
        if new:
            kernel.ensure_forward_accept()
        if any(ep.get("ip6") and not ep["internal"] for ep in new.values()):
            kernel.enable_ipv6_forwarding()  # as dockerd for an IPv6 network: routed out
        lingering = [ep for ep in endpoints if kernel.link_exists(ep["veth"])]
        if lingering:  # the same container's last veth, still being destroyed with its netns
            kernel.ip_batch(plan.host_teardown(lingering, []), force=True)
        if create_ns:
            kernel.create_netns(sb["netns"])
        kernel.ip_batch(plan.host_setup(sb, endpoints, list(new.values())))
        for bridge in new:
            kernel.enable_bridge(bridge)
        route = plan.default_route(sb["endpoints"]) if create_ns else None
        kernel.ip_batch(plan.ns_setup(endpoints, create_ns, route), netns=sb["netns"])
        self._apply_tables([*others, sb])
        if any(ep["dns"] for ep in endpoints):
            dns.reload(self.state.dns_dir, dns.write_configs(self.state.dns_dir, [*others, sb]))

    def _ruleset(self, sandboxes: list[dict]) -> tuple[str, list]:
        nets = {}
        for net in self.state.networks():
            bridge, sub = net.get("_bridge"), model.subnet_of(net)
            if bridge and sub and kernel.bridge_exists(bridge):
                options = net.get("Options") or {}
                six = ipv6.subnet6_of(net) if net.get("EnableIPv6") else None
                nets[bridge] = {"bridge": bridge, "subnet": sub[0], "internal": bool(net.get("Internal")),
                                "subnet6": six[0] if six else None,
                                "icc": model.option_true(options, model.ICC),
                                "masquerade": model.option_true(options, model.MASQUERADE)}
        ports = [p for sb in sandboxes for p in sb["ports"]]
        return plan.ruleset(self.table, [nets[b] for b in sorted(nets)], ports), ports

    def rules_current(self) -> bool:
        """Whether the nft table last applied is the one the endpoint files call for (`system
        check`: a crash between the two leaves rules for containers that are gone)."""
        applied = self.state.run_dir / "ruleset.nft"
        if not applied.exists():
            return not self.state.sandboxes()  # never set up, or reset: nothing is called for
        return applied.read_text() == self._ruleset(self.state.sandboxes())[0]

    def _apply_tables(self, sandboxes: list[dict], force: bool = False) -> None:
        """The store's nft table for every network whose bridge is up and every published
        port; not rewritten when it would not change (unless `force`)."""
        script, ports = self._ruleset(sandboxes)
        applied = self.state.run_dir / "ruleset.nft"
        if not force and applied.exists() and applied.read_text() == script:
            return
        applied.unlink(missing_ok=True)  # unknown until nft succeeds
        kernel.nft(script)
        applied.write_text(script)
        portmod.register(self.key, str(self.state.run_dir.parent), ports)

    # ---- teardown ----
    def teardown(self, cid: str) -> bool:
        """Undo a sandbox; False (and no work) when there is none."""
        if not self.state.endpoint_file(cid).exists():
            return False
        with self.state.locked():
            others = [sb for sb in self.state.sandboxes() if sb["cid"] != cid]
            self._teardown_locked(cid, others)
        return True

    def _teardown_locked(self, cid: str, others: list[dict]) -> None:
        sb = self.state.sandbox(cid)
        if sb is None:
            return
        self._remove(sb, sb["endpoints"], others, drop_ns=True)
        self.state.delete_sandbox(cid)

    def _remove(self, sb: dict, endpoints: list[dict], others: list[dict], drop_ns: bool) -> None:
        keep = [ep for ep in sb["endpoints"] if ep not in endpoints]
        if drop_ns:
            kernel.delete_netns(sb["netns"])  # its veths go with it
        else:
            kernel.ip_batch(plan.host_teardown(endpoints, []), force=True)
        remaining = others + ([{**sb, "endpoints": keep}] if not drop_ns else [])
        self._apply_tables(remaining)
        if any(ep["dns"] for ep in endpoints):
            dns.reload(self.state.dns_dir, dns.write_configs(self.state.dns_dir, remaining))

    def reapply(self) -> None:
        """Make the nft table and resolver match the endpoint files (a restart reconciles)."""
        with self.state.locked():
            sbs = self.state.sandboxes()
            self._apply_tables(sbs, force=True)
            dns.reload(self.state.dns_dir, dns.write_configs(self.state.dns_dir, sbs))

    def drop_bridge(self, bridge: str) -> None:
        """A removed network's bridge (it has no endpoints left) and its nft rules."""
        with self.state.locked(), kernel.ip_batch_started(plan.host_teardown([], [bridge])):
            self._apply_tables(self.state.sandboxes())  # while the kernel unregisters the bridge

    def reset(self, bridges: list[str]) -> None:
        """Every kernel object of this store gone: namespaces, `bridges`, the nft table, the
        resolver; the FORWARD jump too when no other pallet store has a table left."""
        live = [b for b in bridges if kernel.bridge_exists(b)]
        if not live and not self.state.sandboxes() and not (self.state.run_dir / "ruleset.nft").exists():
            return  # this store never set anything up (most stores of the tests)
        with self.state.locked():
            for sb in self.state.sandboxes():
                self._teardown_locked(sb["cid"], [])
            kernel.ip_batch(plan.host_teardown([], live), force=True)
            kernel.nft(plan.ruleset(self.table, [], []))
            (self.state.run_dir / "ruleset.nft").unlink(missing_ok=True)
            portmod.register(self.key, str(self.state.run_dir.parent), [])
            dns.reload(self.state.dns_dir, False)
            if not set(kernel.pallet_tables()) - {self.table}:
                kernel.remove_forward_accept()

    # ---- live connect / disconnect ----
    def add_endpoint(self, cid: str, net: dict, opts: dict) -> dict:
        with self.state.locked():
            sb = self.state.sandbox(cid)
            if sb is None:
                return {}
            others = [o for o in self.state.sandboxes() if o["cid"] != cid]
            ep = self._plan_endpoint(cid, net, opts, others, sb["endpoints"])
            sb["endpoints"].append(ep)
            self.state.save_sandbox(sb)
            try:
                self._apply(sb, [ep], others, create_ns=False)
            except BaseException:
                sb["endpoints"].remove(ep)
                self._remove({**sb, "endpoints": sb["endpoints"] + [ep]}, [ep], others, drop_ns=False)
                self.state.save_sandbox(sb)
                raise
            return {net["Name"]: endpoint_settings(ep, sb["name"])}

    def remove_endpoint(self, cid: str, net: dict) -> None:
        with self.state.locked():
            sb = self.state.sandbox(cid)
            if sb is None:
                return
            eps = [ep for ep in sb["endpoints"] if ep["network_id"] == net["Id"]]
            others = [o for o in self.state.sandboxes() if o["cid"] != cid]
            self._remove(sb, eps, others, drop_ns=False)
            sb["endpoints"] = [ep for ep in sb["endpoints"] if ep not in eps]
            self.state.save_sandbox(sb)


def _plan_ipv6(net: dict, opts: dict, others: list[dict]) -> dict:
    """The endpoint's IPv6 address on a dual-stack network (network.ipv6); {} otherwise."""
    from . import ipv6
    sub = ipv6.subnet6_of(net) if net.get("EnableIPv6") else None
    if sub is None:
        return {}
    used = {ep.get("ip6") for sb in others for ep in sb["endpoints"] if ep["network_id"] == net["Id"]}
    ip6 = model.pick_ip(sub[0], sub[1], used, opts.get("ip6"))
    return {"ip6": ip6, "prefix6": int(sub[0].split("/")[1]), "gateway6": sub[1]}


def endpoint_settings(ep: dict, name: str) -> dict:
    """One entry of NetworkSettings.Networks, in Docker's shape."""
    return {"IPAMConfig": None, "Links": None, "Aliases": ep["aliases"] or None, "MacAddress": ep["mac"],
            "DriverOpts": None, "NetworkID": ep["network_id"], "EndpointID": ep["endpoint_id"],
            "Gateway": ep["gateway"], "IPAddress": ep["ip"], "IPPrefixLen": ep["prefix"],
            "IPv6Gateway": ep.get("gateway6", ""), "GlobalIPv6Address": ep.get("ip6", ""),
            "GlobalIPv6PrefixLen": ep.get("prefix6", 0),
            "DNSNames": [name, ep["endpoint_id"][:12], *ep["aliases"]] if ep["dns"] else None}
