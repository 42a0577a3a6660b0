"""`pallet network ...` (create, ls, inspect, rm, prune, connect, disconnect).

Thin: decode flags, call the NetworkService (pallet.services.networks), render.
The run/create network flags are pallet.cli.network_flags' (every `run` reads them).
"""
from __future__ import annotations

from .flags import Command, F

NETWORK_HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
                   "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}


# ---- network verbs ----
def _svc(ctx):
    return ctx.engine.networks


def network_create(ctx, o, args) -> int:
    from ..services.network_types import NetworkCreateRequest
    labels = {}
    for item in o.label:
        k, _, v = item.partition("=")
        labels[k] = v
    req = NetworkCreateRequest(args[0], o.driver or "bridge", list(o.subnet), list(o.gateway), o.internal,
                               labels, ip_ranges=list(o.ip_range),
                               aux_addresses=_pairs(o.aux_address, "aux-address"),
                               options=_pairs(o.opt, "opt"), ipam_driver=o.ipam_driver or "default",
                               ipam_options=_pairs(o.ipam_opt, "ipam-opt"), ipv6=o.ipv6)
    ctx.out(_svc(ctx).create(req))
    return 0


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    from ..errors import UsageError
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise UsageError(f'invalid argument "{item}" for "--{flag}" flag: invalid format {item}')
        out[key] = value
    return out


def _row(net: dict) -> dict:
    labels = ",".join(f"{k}={v}" for k, v in (net.get("Labels") or {}).items())
    return {"ID": net["Id"][:12], "Name": net["Name"], "Driver": net["Driver"], "Scope": net["Scope"],
            "IPv4": "false" if net["Driver"] == "null" or net["Driver"] == "host" else "true",
            "IPv6": str(net["EnableIPv6"]).lower(), "Internal": str(net["Internal"]).lower(),
            "Labels": labels, "CreatedAt": _go_time_string(net["Created"]), "_id": net["Id"], "_labels": net.get("Labels") or {}}


def _go_time_string(created: str) -> str:
    """RFC 3339 as Go's time.String() prints it (docker/cli's network CreatedAt)."""
    from datetime import datetime
    try:
        when = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return created
    frac = f"{when.microsecond:06d}".rstrip("0")
    return when.strftime("%Y-%m-%d %H:%M:%S") + (f".{frac}" if frac else "") + " +0000 UTC"


def network_ls(ctx, o, args) -> int:
    from ..opts.filters import parse_filters
    from . import render
    filters = parse_filters(o.filter)
    rows = [_row(n) for n in _svc(ctx).list(filters)]
    if o.no_trunc:
        for r in rows:
            r["ID"] = r["_id"]
    if o.quiet:
        ctx.stdout.write("".join(r["ID"] + "\n" for r in rows))
        return 0
    render.rows(ctx, rows, o.format, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", NETWORK_HEADERS,
                "*network.networkContext")
    return 0


def network_inspect(ctx, o, args) -> int:
    from . import render
    return render.inspect_each(ctx, args, _svc(ctx).inspect, o.format)


def network_rm(ctx, o, args) -> int:
    from ..errors import NotFound, PalletError
    failed = False
    for ref in args:
        try:
            _svc(ctx).remove(ref)
        except NotFound:
            if o.force:
                continue
            ctx.err(f"Error response from daemon: network {ref} not found")
            failed = True
            continue
        except PalletError as exc:
            ctx.err(f"Error response from daemon: {exc}")
            failed = True
            continue
        ctx.out(ref)
    return 1 if failed else 0


def network_prune(ctx, o, args) -> int:
    from . import render
    from ..opts.filters import parse_filters
    if not o.force and not render.confirm(ctx, "WARNING! This will remove all custom networks not used by "
                                               "at least one container."):
        return 0
    filters = parse_filters(o.filter)
    removed = _svc(ctx).prune(filters)
    if removed:
        ctx.out("Deleted Networks:")
        for name in removed:
            ctx.out(name)
        ctx.out("")  # docker/cli prints its report with Fprintln: a blank line ends it
    return 0


def network_connect(ctx, o, args) -> int:
    _svc(ctx).connect(args[0], args[1], list(o.alias), o.ip or None, o.ip6 or None)
    return 0


def network_disconnect(ctx, o, args) -> int:
    _svc(ctx).disconnect(args[0], args[1], o.force)
    return 0


COMMANDS = [
    Command("network create", "[OPTIONS] NETWORK", "Create a network", network_create, [
        F("attachable", help="Enable manual container attachment"),
        F("aux-address", kind="list", help="Auxiliary IPv4 or IPv6 addresses used by Network driver"),
        F("driver", "d", kind="str", default="bridge", help='Driver to manage the Network (default "bridge")'),
        F("gateway", kind="list", help="IPv4 or IPv6 Gateway for the master subnet"),
        F("internal", help="Restrict external access to the network"),
        F("ip-range", kind="list", help="Allocate container ip from a sub-range"),
        F("ipam-driver", kind="str", default="default", help="IP Address Management Driver"),
        F("ipam-opt", kind="list", help="Set IPAM driver specific options"),
        F("ipv6", help="Enable or disable IPv6 networking"),
        F("label", kind="list", help="Set metadata on a network"),
        F("opt", "o", kind="list", help="Set driver specific options"),
        F("subnet", kind="list", help="Subnet in CIDR format that represents a network segment"),
    ], 1, 1),
    Command("network ls", "[OPTIONS]", "List networks", network_ls, [
        F("filter", "f", kind="list", help='Provide filter values (e.g. "driver=bridge")'),
        F("format", kind="str", help="Format output using a custom template"),
        F("no-trunc", help="Do not truncate the output"),
        F("quiet", "q", help="Only display network IDs"),
    ], 0, 0, aliases=("network list",)),
    Command("network inspect", "[OPTIONS] NETWORK [NETWORK...]",
            "Display detailed information on one or more networks", network_inspect, [
                F("format", "f", kind="str", help="Format output using a custom template"),
                F("verbose", "v", help="Verbose output for diagnostics"),
            ], 1),
    Command("network rm", "NETWORK [NETWORK...]", "Remove one or more networks", network_rm, [
        F("force", "f", help="Do not error if the network does not exist"),
    ], 1, aliases=("network remove",)),
    Command("network prune", "[OPTIONS]", "Remove all unused networks", network_prune, [
        F("filter", kind="list", help='Provide filter values (e.g. "until=<timestamp>")'),
        F("force", "f", help="Do not prompt for confirmation"),
    ], 0, 0),
    Command("network connect", "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network",
            network_connect, [
                F("alias", kind="list", help="Add network-scoped alias for the container"),
                F("ip", kind="str", help='IPv4 address (e.g., "172.30.100.104")'),
                F("ip6", kind="str", help='IPv6 address (e.g., "2001:db8::33")'),
            ], 2, 2),
    Command("network disconnect", "[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network",
            network_disconnect, [F("force", "f", help="Force the container to disconnect from a network")], 2, 2),
]
