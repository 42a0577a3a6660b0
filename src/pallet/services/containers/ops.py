"""Docker's container operations: `top`, `stats`, `update`, `container prune`.

Owns the read-mostly operations over running containers and `update` (its limits are
checked by pallet.services.containers.limits, as at create). Usage numbers come from the
cgroup files (pallet.runtime.cgroups); limits change through ``runc update``.

Invariant: `update` changes the record only after runc accepted the new limits, so
inspect never shows a limit the cgroup does not have.
"""
from __future__ import annotations

import time
from ...record import dataclass, replace

from ...errors import Conflict, InvalidArgument, PalletError
from .limits import check_resources
from ..container_types import UpdateRequest

SAMPLE_INTERVAL = 0.5  # seconds between the two readings a CPU % needs


# ---- top ----

def top(svc, ref: str, ps_args: list[str]) -> tuple[list[str], list[list[str]]]:
    """`docker top`: the host's ``ps`` output, restricted to the container's processes."""
    from ...runtime.cgroups import Cgroup
    from ...runtime.spec import cgroups_path
    record = svc.get(ref)
    if not record["State"]["Running"]:
        raise Conflict(f"Container {record['Id']} is not running")
    pids = set(Cgroup(cgroups_path(record["Id"])).procs())
    try:
        import subprocess  # lazily: `run` imports this module, rarely this path
        done = subprocess.run(["ps", *(ps_args or ["-ef"])], capture_output=True, text=True, timeout=30)
    except OSError as exc:
        raise PalletError(f"ps: {exc.strerror}") from exc
    if done.returncode != 0:
        raise PalletError(f"ps: {(done.stderr.strip().splitlines() or [''])[0]}")  # not ps's usage text
    lines = done.stdout.splitlines()
    titles = lines[0].split() if lines else []
    if "PID" not in titles:
        raise PalletError("Couldn't find PID field in ps output")
    at = titles.index("PID")
    rows = []
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > at and fields[at].isdigit() and int(fields[at]) in pids:
            rows.append(fields[:len(titles) - 1] + [" ".join(fields[len(titles) - 1:])])
    return titles, rows


# ---- stats ----

@dataclass
class Stats:
    container: str      # as the user named it
    record: dict
    cpu_percent: float = 0.0
    memory: int = 0
    memory_limit: int = 0
    net_rx: int = 0
    net_tx: int = 0
    block_read: int = 0
    block_write: int = 0
    pids: int = 0


def stats(svc, records: list[tuple[str, dict]], interval: float = SAMPLE_INTERVAL) -> list[Stats]:
    """One `stats` frame: every cgroup read twice, `interval` apart, for CPU %."""
    from ...runtime import cgroups
    from ...runtime.spec import cgroups_path
    groups = {r["Id"]: cgroups.Cgroup(cgroups_path(r["Id"])) for _, r in records if r["State"]["Running"]}
    first = {cid: g.sample() for cid, g in groups.items()}
    t0 = time.monotonic()
    if groups:
        time.sleep(interval)
    elapsed = max(time.monotonic() - t0, 1e-9)
    host_mem = cgroups.host_memory()
    out = []
    for name, rec in records:
        row = Stats(name, rec)
        g = groups.get(rec["Id"])
        if g is not None:
            s = g.sample()
            row.cpu_percent = max(0, s.cpu_ns - first[rec["Id"]].cpu_ns) / (elapsed * 1e9) * 100
            row.memory, row.pids = s.memory_usage, s.pids
            row.memory_limit = min(s.memory_limit or host_mem, host_mem)
            row.block_read, row.block_write = s.block_read, s.block_write
            if rec["HostConfig"].get("NetworkMode") != "host":
                row.net_rx, row.net_tx = cgroups.net_io(rec["State"]["Pid"])
        out.append(row)
    return out


# ---- update ----

_HOST_KEYS = {"memory": "Memory", "memory_swap": "MemorySwap", "nano_cpus": "NanoCpus",
              "cpu_shares": "CpuShares", "cpu_period": "CpuPeriod", "cpu_quota": "CpuQuota",
              "cpuset_cpus": "CpusetCpus", "cpuset_mems": "CpusetMems", "pids_limit": "PidsLimit",
              "memory_reservation": "MemoryReservation", "blkio_weight": "BlkioWeight",
              "cpu_rt_period": "CpuRealtimePeriod", "cpu_rt_runtime": "CpuRealtimeRuntime"}


def update_warnings(req: UpdateRequest) -> list[str]:
    """What Docker's daemon warns about (and discards) for this update on this host."""
    from .settings import _blkio_weight_file
    if req.blkio_weight and not _blkio_weight_file():
        return ["Your kernel does not support Block I/O weight or the cgroup is not mounted. "
                "Weight discarded."]
    return []


def update(svc, ref: str, req: UpdateRequest) -> None:
    """`docker update`: new limits on the cgroup (if running) and in the record."""
    from .restart import parse_policy
    cid = svc.resolve(ref)
    with svc._locked(cid):
        record = svc.get(cid)
        host = dict(record["HostConfig"])
        old_memory, old_swap = host.get("Memory") or 0, host.get("MemorySwap") or 0
        for field, key in _HOST_KEYS.items():
            value = getattr(req, field)
            if value is not None:
                host[key] = value
        if req.memory and req.memory_swap is None and old_memory:
            swap = old_swap or 2 * old_memory  # what the cgroup holds since create
            if swap > 0 and req.memory > swap:
                raise Conflict("Memory limit should be smaller than already set memoryswap limit, "
                               "update the memoryswap at the same time")
            host["MemorySwap"] = swap
        check_resources(host)
        if update_warnings(req):
            host["BlkioWeight"] = record["HostConfig"].get("BlkioWeight") or 0
            req = replace(req, blkio_weight=None)
        _check_update(host)
        if req.restart is not None:
            if host.get("AutoRemove") and parse_policy(req.restart)["Name"] != "no":
                raise InvalidArgument("Restart policy cannot be updated because AutoRemove is enabled "
                                      "for the container")
            host["RestartPolicy"] = parse_policy(req.restart)
        if record["State"]["Running"]:
            if req.cpu_rt_runtime:
                from ...runtime.cgroups import grant_realtime
                from ...runtime.spec import cgroups_path
                grant_realtime(cgroups_path(cid), req.cpu_rt_runtime)
            svc.monitor_of(cid).runc.update(cid, _oci_resources(host, req))
        svc.store.update(cid, lambda r: r.update(HostConfig=host))


def _check_update(host: dict) -> None:
    weight = host.get("BlkioWeight") or 0
    if weight and not 10 <= weight <= 1000:
        raise InvalidArgument("Range of blkio weight is from 10 to 1000")
    period, runtime = host.get("CpuRealtimePeriod") or 0, host.get("CpuRealtimeRuntime") or 0
    if runtime and period and runtime > period:
        raise InvalidArgument("cpu-rt-runtime cannot be higher than cpu-rt-period")


def _oci_resources(host: dict, req: UpdateRequest) -> dict:
    """Only what the request changes, in OCI linux.resources terms."""
    out: dict = {}
    if req.memory is not None or req.memory_swap is not None:
        memory = {"limit": host.get("Memory") or -1}
        swap = host.get("MemorySwap")
        memory["swap"] = swap if swap else (2 * host["Memory"] if host.get("Memory") else -1)
        out["memory"] = memory
    if req.memory_reservation is not None:
        out.setdefault("memory", {})["reservation"] = req.memory_reservation or -1
    if req.blkio_weight is not None:
        out["blockIO"] = {"weight": req.blkio_weight}
    cpu: dict = {}
    if req.cpu_shares is not None:
        cpu["shares"] = req.cpu_shares
    if req.nano_cpus is not None:
        cpu["period"] = 100_000
        cpu["quota"] = req.nano_cpus * 100_000 // 10**9 if req.nano_cpus else -1
    if req.cpu_period is not None:
        cpu["period"] = req.cpu_period
    if req.cpu_quota is not None:
        cpu["quota"] = req.cpu_quota
    if req.cpuset_cpus is not None:
        cpu["cpus"] = req.cpuset_cpus
    if req.cpuset_mems is not None:
        cpu["mems"] = req.cpuset_mems
    if req.cpu_rt_period is not None:
        cpu["realtimePeriod"] = req.cpu_rt_period
    if req.cpu_rt_runtime is not None:
        cpu["realtimeRuntime"] = req.cpu_rt_runtime
    if cpu:
        out["cpu"] = cpu
    if req.pids_limit is not None:
        out["pids"] = {"limit": req.pids_limit if req.pids_limit > 0 else -1}
    return out


# ---- prune ----

def prune_containers(svc, filters=None) -> tuple[list[str], int]:
    """Remove every stopped container (Docker's `until`/`label` filters); (ids, bytes freed)."""
    from ..disk import tree_size
    deleted, freed = [], 0
    now = time.time()
    for record in svc.list():
        if record["State"]["Running"] or record["State"].get("Restarting"):
            continue
        if filters is not None and not _prune_match(record, filters, now):
            continue
        cid = record["Id"]
        size = tree_size(svc.paths.container(cid))
        try:
            svc.remove(cid)
        except PalletError:
            continue  # started or removed meanwhile: not ours to count
        deleted.append(cid)
        freed += size
    return deleted, freed + svc.sweep_leftovers()


def _prune_match(record: dict, filters, now: float) -> bool:
    from ...opts.timestamps import parse_timestamp
    for until in filters.get("until"):
        if record.get("_created", 0) >= parse_timestamp(until, now):
            return False
    labels = record["Config"].get("Labels") or {}
    return filters.match_label(labels, "label") and not _any_label(filters.get("label!"), labels)


def _any_label(wanted: list[str], labels: dict) -> bool:
    for item in wanted:
        key, eq, value = item.partition("=")
        if key in labels and (not eq or labels[key] == value):
            return True
    return False
