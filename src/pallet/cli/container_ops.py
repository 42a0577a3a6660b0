"""`pallet top|stats|update`, `container prune`, `system prune`, and the monitors' entry points.

Thin: decode flags, call one engine.containers / engine.system method, render.
Hidden plumbing lives here too: `container healthcheck ID` (run by a container's
health loop) and `system restore` (run at boot by contrib/pallet-restore.*).
`health_flags` decodes run/create's --health-* flags (called from run_flags).
"""
from __future__ import annotations

import time

from ..errors import InvalidArgument, PalletError, UsageError
from .flags import Command, F
from . import render

STATS_HEADERS = {"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
                 "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
                 "BlockIO": "BLOCK I/O", "PIDs": "PIDS"}
STATS_TABLE = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
HEALTH_ON_FAILURE = F("health-on-failure", kind="str",
                      help="Action on an unhealthy container: none, kill, restart or stop")


def health_flags(o) -> dict:
    """run/create's --health-* flags -> CreateRequest.extra["health"] (durations in ns)."""
    from ..opts.units import parse_duration_ns
    out: dict = {"none": o.no_healthcheck, "on_failure": o.get("health_on_failure")}
    if o.health_cmd:
        out["Test"] = ["CMD-SHELL", o.health_cmd]
    for flag, key in (("health_interval", "Interval"), ("health_timeout", "Timeout"),
                      ("health_start_period", "StartPeriod"), ("health_start_interval", "StartInterval")):
        if o.get(flag):
            try:
                value = parse_duration_ns(o[flag])
            except InvalidArgument as exc:  # docker/cli reads it as a flag value
                raise UsageError(f'invalid argument "{o[flag]}" for "--{flag.replace("_", "-")}" '
                                 f"flag: {exc}") from None
            if value < 0:
                raise InvalidArgument(f"--{flag.replace('_', '-')} cannot be negative")
            out[key] = value
    if o.health_retries is not None:
        if o.health_retries < 0:
            raise InvalidArgument("--health-retries cannot be negative")
        out["Retries"] = o.health_retries
    return out


def container_top(ctx, o, args) -> int:
    titles, rows = ctx.engine.containers.top(args[0], args[1:])
    # docker/cli: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)
    table = [titles] + rows
    widths = [max(20, max(len(r[i]) for r in table if i < len(r)) + 3) for i in range(len(titles))]
    for row in table:
        ctx.out("".join(cell.ljust(w) for cell, w in zip(row[:-1], widths)) + row[-1])
    return 0


def _stats_rows(svc, o, args):
    from ..dockerjson.container import Row
    from ..opts.units import bytes_size, human_size
    rows = []
    for s in svc.stats(args, all_containers=o.all):
        cid = s.record["Id"]
        rows.append(Row({
            "Container": s.container, "ID": cid if o.no_trunc else cid[:12],
            "Name": s.record["Name"].lstrip("/"), "CPUPerc": f"{s.cpu_percent:.2f}%",
            "MemUsage": f"{bytes_size(s.memory)} / {bytes_size(s.memory_limit)}",
            "MemPerc": f"{(s.memory * 100 / s.memory_limit) if s.memory_limit else 0:.2f}%",
            "NetIO": f"{human_size(s.net_rx)} / {human_size(s.net_tx)}",
            "BlockIO": f"{human_size(s.block_read)} / {human_size(s.block_write)}",
            "PIDs": str(s.pids)}))
    return rows


def container_stats(ctx, o, args) -> int:
    from ..format.table import format_rows
    svc = ctx.engine.containers
    while True:
        text = format_rows(o.format, _stats_rows(svc, o, args), STATS_TABLE, headers=STATS_HEADERS)
        if o.no_stream:
            ctx.stdout.write(text)
            return 0
        ctx.stdout.write("\033[2J\033[H" + text)  # docker redraws the screen each second
        ctx.stdout.flush()
        time.sleep(0.5)


def _bytes_flag(text: str | None, flag: str) -> int | None:
    from ..opts.units import parse_bytes
    if text is None:
        return None
    if text == "-1" and flag == "memory-swap":
        return -1
    try:
        return parse_bytes(text)
    except InvalidArgument as exc:
        raise UsageError(f'invalid argument "{text}" for "--{flag}" flag: {exc}') from None


def container_update(ctx, o, args) -> int:
    from ..services.container_types import UpdateRequest
    nano = None
    if o.cpus is not None:
        try:
            nano = int(round(float(o.cpus) * 1e9))
        except ValueError:
            raise UsageError(f'invalid argument "{o.cpus}" for "--cpus" flag: failed to parse '
                             f"{o.cpus} as a rational number") from None
    req = UpdateRequest(memory=_bytes_flag(o.memory, "memory"),
                        memory_swap=_bytes_flag(o.memory_swap, "memory-swap"), nano_cpus=nano,
                        cpu_shares=o.cpu_shares, cpu_period=o.cpu_period, cpu_quota=o.cpu_quota,
                        cpuset_cpus=o.cpuset_cpus, cpuset_mems=o.cpuset_mems, pids_limit=o.pids_limit,
                        restart=o.restart, memory_reservation=_bytes_flag(o.memory_reservation,
                                                                          "memory-reservation"),
                        blkio_weight=o.blkio_weight, cpu_rt_period=o.cpu_rt_period,
                        cpu_rt_runtime=o.cpu_rt_runtime)
    if all(v is None for v in vars(req).values()):
        # docker/cli update.go: a plain errors.New, so one line and exit 1, no usage text
        ctx.err("you must provide one or more flags when using this command")
        return 1
    for warning in ctx.engine.containers.update_warnings(req):
        ctx.err(f"WARNING: {warning}")
    failed = False
    for ref in args:
        try:
            ctx.engine.containers.update(ref, req)
        except PalletError as exc:
            ctx.err(f"Error response from daemon: {exc}" if len(args) > 1 else f"Error: {exc}")
            failed = True
            continue
        ctx.out(ref)
    return 1 if failed else 0


def _prune_filters(values: list[str]) -> dict:
    from ..opts.filters import parse_filters
    return parse_filters(values, allowed=("until", "label", "label!"))


def container_prune(ctx, o, args) -> int:
    from ..opts.units import human_size
    filters = _prune_filters(o.filter)
    if not o.force and not render.confirm(ctx, "WARNING! This will remove all stopped containers."):
        return 0
    deleted, freed = ctx.engine.containers.prune(filters)
    _print_deleted(ctx, "Deleted Containers:", deleted)
    ctx.out(f"Total reclaimed space: {human_size(freed)}")
    return 0


def _print_deleted(ctx, title: str, lines: list[str]) -> None:
    if lines:
        ctx.out(title)
        for line in lines:
            ctx.out(line)
        ctx.out("")


def system_reset(ctx, o, args) -> int:
    text = ("WARNING! This will remove:\n  - all containers\n  - all networks and their bridges\n"
            "  - all images\n  - all volumes\n  - all build cache\n"
            f"and delete {ctx.engine.paths.root} and {ctx.engine.paths.runroot}.")
    if not o.force and not render.confirm(ctx, text):
        return 0
    ctx.engine.system.reset()
    return 0


def system_prune(ctx, o, args) -> int:
    from ..opts.units import human_size
    filters = _prune_filters(o.filter)
    warnings = ["all stopped containers", "all networks not used by at least one container"]
    if o.volumes:
        warnings.append("all anonymous volumes not used by at least one container")
    warnings += ["all images without at least one container associated to them" if o.all
                 else "all dangling images", "unused build cache"]
    text = "WARNING! This will remove:\n" + "".join(f"  - {w}\n" for w in warnings)
    if not o.force and not render.confirm(ctx, text):
        return 0
    pruned = ctx.engine.system.prune(all_images=o.all, volumes=o.volumes, filters=filters)
    _print_deleted(ctx, "Deleted Containers:", pruned.containers)
    _print_deleted(ctx, "Deleted Networks:", pruned.networks)
    if o.volumes:
        _print_deleted(ctx, "Deleted Volumes:", pruned.volumes)
    _print_deleted(ctx, "Deleted Images:", [f"untagged: {u}" for u in pruned.images_untagged] +
                   [f"deleted: {d}" for d in pruned.images_deleted])
    ctx.out(f"Total reclaimed space: {human_size(pruned.freed)}")
    return 0


def container_healthcheck(ctx, o, args) -> int:
    ctx.out(ctx.engine.containers.healthcheck(args[0]))
    return 0


def system_restore(ctx, o, args) -> int:
    failed = []

    def report(cid, exc):
        ctx.err(f"Error: cannot restore {cid[:12]}: {exc}")
        failed.append(cid)
    for cid in ctx.engine.containers.restore(report):
        ctx.out(cid)
    return 1 if failed else 0


FILTER = F("filter", kind="list", help='Provide filter values (e.g. "until=<timestamp>")')
FORCE = F("force", "f", help="Do not prompt for confirmation")

COMMANDS = [
    Command("container top", "CONTAINER [ps OPTIONS]", "Display the running processes of a container",
            container_top, [], 1, interspersed=False),
    Command("container stats", "[OPTIONS] [CONTAINER...]",
            "Display a live stream of container(s) resource usage statistics", container_stats, [
                F("all", "a", help="Show all containers (default shows just running)"),
                F("format", kind="str", help="Format output using a custom template"),
                F("no-stream", help="Disable streaming stats and only pull the first result"),
                F("no-trunc", help="Do not truncate output"),
            ]),
    Command("container update", "[OPTIONS] CONTAINER [CONTAINER...]",
            "Update configuration of one or more containers", container_update, [
                F("blkio-weight", kind="int",
                  help="Block IO (relative weight), between 10 and 1000, or 0 to disable"),
                F("cpu-period", kind="int", help="Limit CPU CFS (Completely Fair Scheduler) period"),
                F("cpu-quota", kind="int", help="Limit CPU CFS (Completely Fair Scheduler) quota"),
                F("cpu-rt-period", kind="int", help="Limit the CPU real-time period in microseconds"),
                F("cpu-rt-runtime", kind="int", help="Limit the CPU real-time runtime in microseconds"),
                F("cpu-shares", "c", kind="int", help="CPU shares (relative weight)"),
                F("cpus", kind="str", metavar="decimal", help="Number of CPUs"),
                F("cpuset-cpus", kind="str", help="CPUs in which to allow execution (0-3, 0,1)"),
                F("cpuset-mems", kind="str", help="MEMs in which to allow execution (0-3, 0,1)"),
                F("memory", "m", kind="str", metavar="bytes", help="Memory limit"),
                F("memory-reservation", kind="str", metavar="bytes", help="Memory soft limit"),
                F("memory-swap", kind="str", metavar="bytes",
                  help="Swap limit equal to memory plus swap: -1 to enable unlimited swap"),
                F("pids-limit", kind="int", help="Tune container pids limit (set -1 for unlimited)"),
                F("restart", kind="str", help="Restart policy to apply when a container exits"),
            ], 1),
    Command("container prune", "[OPTIONS]", "Remove all stopped containers", container_prune,
            [FILTER, FORCE], 0, 0),
    Command("container healthcheck", "CONTAINER", "Run a container's healthcheck once (run by its "
            "health monitor)", container_healthcheck, [], 1, 1),
    Command("system prune", "[OPTIONS]", "Remove unused data", system_prune, [
        F("all", "a", help="Remove all unused images not just dangling ones"),
        F("filter", kind="list", help='Provide filter values (e.g. "label=<key>=<value>")'),
        FORCE, F("volumes", help="Prune anonymous volumes"),
    ], 0, 0),
    Command("system restore", "", "Start the containers a restart policy keeps up (run at boot)",
            system_restore, [], 0, 0),
    Command("system reset", "[OPTIONS]", "Reset pallet storage back to its initial state",
            system_reset, [FORCE], 0, 0),
]
