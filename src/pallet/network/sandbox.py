"""A container's network sandbox: its namespace, endpoints and published ports, live.

`create` plans everything first (addresses, ports), records it in the endpoint
file, then applies it (ip, nft, aardvark-dns); if applying fails it tears down
what the file describes and re-raises, so nothing is left half set up.
`teardown` is idempotent and works from the file alone (after kill -9 or a
crash of pallet). All of it runs under the store's network lock.
"""
from __future__ import annotations

import secrets

from . import dns, kernel, model, plan
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
                  "sandbox_id": secrets.token_hex(32), "endpoints": [], "ports": []}
            for net, opts in networks:
                sb["endpoints"].append(self._plan_endpoint(cid, net, opts, others, sb["endpoints"]))
            primary = next((ep for ep in sb["endpoints"] if not ep["internal"]), None)
            if primary and port_specs:
                taken = [p for o in others for p in o["ports"]]
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
        used = {ep["ip"] for sb in others for ep in sb["endpoints"] if ep["network_id"] == net["Id"]}
        ip = model.pick_ip(subnet, gateway, used, opts.get("ip"))
        index = len(mine)
        return {"network": net["Name"], "network_id": net["Id"], "endpoint_id": secrets.token_hex(32),
                "bridge": net["_bridge"], "subnet": subnet, "gateway": gateway, "ip": ip,
                "prefix": int(subnet.split("/")[1]), "mac": model.mac_of(ip),
                "veth": model.veth_name(cid, index), "ifname": f"eth{index}",
                "aliases": list(opts.get("aliases") or []), "dns": bool(net.get("_dns")),
                "internal": bool(net.get("Internal"))}

    def _apply(self, sb: dict, endpoints: list[dict], others: list[dict], create_ns: bool) -> None:
        new = {ep["bridge"]: ep for ep in endpoints if not kernel.bridge_exists(ep["bridge"])}
        if new:
            kernel.ensure_forward_accept()
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

    def _apply_tables(self, sandboxes: list[dict]) -> None:
        nets = {}
        for sb in sandboxes:
            for ep in sb["endpoints"]:
                nets.setdefault(ep["bridge"], {"bridge": ep["bridge"], "subnet": ep["subnet"],
                                               "internal": ep["internal"]})
        kernel.nft(plan.ruleset(self.table, list(nets.values()), [p for sb in sandboxes for p in sb["ports"]]))

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
        live = {ep["bridge"] for o in others for ep in o["endpoints"]}
        keep = [ep for ep in sb["endpoints"] if ep not in endpoints]
        live |= {ep["bridge"] for ep in keep}
        dead = sorted({ep["bridge"] for ep in endpoints} - live)
        kernel.ip_batch(plan.host_teardown(endpoints, dead), force=True)
        if drop_ns:
            kernel.delete_netns(sb["netns"])
        remaining = others + ([{**sb, "endpoints": keep}] if not drop_ns else [])
        self._apply_tables(remaining)
        if any(ep["dns"] for ep in endpoints):
            dns.reload(self.state.dns_dir, dns.write_configs(self.state.dns_dir, remaining))

    def reapply(self) -> None:
        """Make the nft table and resolver match the endpoint files (a restart reconciles)."""
        with self.state.locked():
            sbs = self.state.sandboxes()
            live = {ep["bridge"] for sb in sbs for ep in sb["endpoints"]}
            stale = [n["_bridge"] for n in self.state.networks() if n.get("_bridge") and
                     n["_bridge"] not in live and kernel.bridge_exists(n["_bridge"])]
            kernel.ip_batch(plan.host_teardown([], stale), force=True)  # left by a wiped runroot
            self._apply_tables(sbs)
            dns.reload(self.state.dns_dir, dns.write_configs(self.state.dns_dir, sbs))
            if not sbs and not set(kernel.pallet_tables()) - {self.table}:
                kernel.remove_forward_accept()  # no pallet network left on this host

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


def endpoint_settings(ep: dict, name: str) -> dict:
    """One entry of NetworkSettings.Networks, in Docker's shape."""
    return {"IPAMConfig": None, "Links": None, "Aliases": ep["aliases"] or None, "MacAddress": ep["mac"],
            "DriverOpts": None, "NetworkID": ep["network_id"], "EndpointID": ep["endpoint_id"],
            "Gateway": ep["gateway"], "IPAddress": ep["ip"], "IPPrefixLen": ep["prefix"],
            "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
            "DNSNames": [name, ep["endpoint_id"][:12], *ep["aliases"]] if ep["dns"] else None}
