"""Docker's container operations: resource limits, `top`, `stats`, `update`, `container prune`.

Owns: the daemon-side validation of resource limits (Docker's wording: "Minimum
memory limit allowed is 6MB"), applied at create (`on_create`, one hook in
ContainerService.create) and at update; `--ulimit` parsing into HostConfig.Ulimits and
from there into the spec's rlimits (`rlimits`, a hook in bundle_spec); and the
read-mostly operations over running containers. Usage numbers come from the cgroup
files (pallet.runtime.cgroups); limits change through ``runc update``.

Invariant: `update` changes the record only after runc accepted the new limits, so
inspect never shows a limit the cgroup does not have.
"""
from __future__ import annotations

import os
import time
from ..record import dataclass

from ..errors import Conflict, InvalidArgument, PalletError

MIN_MEMORY = 6 * 1024 * 1024
ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
                "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")
SAMPLE_INTERVAL = 0.5  # seconds between the two readings a CPU % needs


# ---- limits: validation, --ulimit ----

def on_create(record: dict, req, image_config: dict) -> None:
    """Hook for ContainerService.create: validate limits, normalise ulimits, set healthcheck.
    (The restart and health modules are imported only for containers that use them: every
    `run` pays for what it imports.)"""
    host = record["HostConfig"]
    host["Ulimits"] = [parse_ulimit(u) for u in req.ulimits] or None
    if host.get("AutoRemove") and req.restart not in ("", "no"):
        from .restart import parse_policy
        if parse_policy(req.restart)["Name"] != "no":
            raise InvalidArgument("conflicting options: cannot specify both --restart and --rm")
    check_resources(host)
    health_flags = (getattr(req, "extra", None) or {}).get("health") or {}
    if any(health_flags.values()) or (image_config.get("config") or {}).get("Healthcheck"):
        from .health import apply_config
        apply_config(record, req, image_config)


HEALTH_PID_FILE = "health.pid"  # in the container's userdata: its health loop's process group


def on_start(svc, record: dict) -> dict:
    """Hook for ContainerService._start_locked once it runs: end a pending restart, start
    the health loop; returns the record as stored."""
    if record["State"].get("Restarting"):
        from . import restart
        record = svc.store.update(record["Id"], restart.on_start)
    if record["Config"].get("Healthcheck"):
        from . import health
        record = health.start_loop(svc, record)
    return record


def on_cleanup(svc, cid: str) -> None:
    """Hook for ContainerService._cleanup_runtime: the health loop ends with the process."""
    if (svc.userdata(cid) / HEALTH_PID_FILE).exists():
        from .health import stop_loop
        stop_loop(svc, cid)


def oom_killed(cid: str) -> bool:
    """Hook for ContainerService._oom_killed: read before runc delete removes the cgroup."""
    from ..runtime.cgroups import oom_killed as cgroup_oom_killed
    from ..runtime.spec import cgroups_path
    return cgroup_oom_killed(cgroups_path(cid))


def check_resources(host: dict) -> None:
    """Docker's verifyPlatformContainerResources, for the limits pallet applies."""
    memory, swap = host.get("Memory") or 0, host.get("MemorySwap") or 0
    if memory and memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if swap > 0 and not memory:
        raise InvalidArgument("You should always set the Memory limit when using Memoryswap limit, see usage")
    if swap > 0 and swap < memory:
        raise InvalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage")
    ncpu = os.cpu_count() or 1
    nano = host.get("NanoCpus") or 0
    if nano < 0 or nano > ncpu * 10**9:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available")
    if (host.get("CpuShares") or 0) < 0:
        raise InvalidArgument(f"invalid CPU shares ({host['CpuShares']}): must be positive")
    _check_cpuset(host.get("CpusetCpus") or "", ncpu)


def _check_cpuset(text: str, ncpu: int) -> None:
    if not text:
        return
    wanted = set()
    for part in text.split(","):
        lo, dash, hi = part.partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()) or (dash and int(hi) < int(lo)):
            raise InvalidArgument(f"Invalid value {text} for cpuset cpus")
        wanted.update(range(int(lo), int(hi if dash else lo) + 1))
    if max(wanted) >= ncpu:
        raise InvalidArgument(f"Requested CPUs are not available - requested {text}, available: 0-{ncpu - 1}")


def parse_ulimit(text: str) -> dict:
    """``nofile=1024[:2048]`` -> {"Name", "Soft", "Hard"}, with the docker CLI's errors."""
    name, eq, limits = text.partition("=")
    bad = f'invalid argument "{text}" for "--ulimit" flag: '
    if not eq:
        raise InvalidArgument(bad + f"invalid ulimit argument: {text}")
    if name not in ULIMIT_NAMES:
        raise InvalidArgument(bad + f"invalid ulimit type: {name}")
    soft, _, hard = limits.partition(":")
    try:
        soft_n, hard_n = int(soft), int(hard or soft)
    except ValueError:
        raise InvalidArgument(bad + f'strconv.ParseInt: parsing "{soft}": invalid syntax') from None
    if soft_n > hard_n:
        raise InvalidArgument(bad + f"ulimit soft limit must be less than or equal to hard limit: "
                              f"{soft_n} > {hard_n}")
    return {"Name": name, "Hard": hard_n, "Soft": soft_n}


def rlimits(host: dict) -> dict[str, tuple[int, int]]:
    """HostConfig.Ulimits -> SpecRequest.rlimits; make_spec clamps them to the hard limits."""
    out = {}
    for u in host.get("Ulimits") or []:
        if isinstance(u, str):
            u = parse_ulimit(u)
        out[u["Name"]] = (u["Soft"], u["Hard"])
    return out


# ---- top ----

def top(svc, ref: str, ps_args: list[str]) -> tuple[list[str], list[list[str]]]:
    """`docker top`: the host's ``ps`` output, restricted to the container's processes."""
    from ..runtime.cgroups import Cgroup
    from ..runtime.spec import cgroups_path
    record = svc.get(ref)
    if not record["State"]["Running"]:
        raise Conflict(f"container {record['Id']} is not running")
    pids = set(Cgroup(cgroups_path(record["Id"])).procs())
    try:
        import subprocess  # lazily: `run` imports this module, rarely this path
        done = subprocess.run(["ps", *(ps_args or ["-ef"])], capture_output=True, text=True, timeout=30)
    except OSError as exc:
        raise PalletError(f"ps: {exc.strerror}") from exc
    if done.returncode != 0:
        raise PalletError(f"ps: {done.stderr.strip()}")
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
    from ..runtime import cgroups
    from ..runtime.spec import cgroups_path
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

@dataclass
class UpdateRequest:
    memory: int | None = None
    memory_swap: int | None = None
    nano_cpus: int | None = None
    cpu_shares: int | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    pids_limit: int | None = None
    restart: str | None = None


_HOST_KEYS = {"memory": "Memory", "memory_swap": "MemorySwap", "nano_cpus": "NanoCpus",
              "cpu_shares": "CpuShares", "cpu_period": "CpuPeriod", "cpu_quota": "CpuQuota",
              "cpuset_cpus": "CpusetCpus", "cpuset_mems": "CpusetMems", "pids_limit": "PidsLimit"}


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
        if req.restart is not None:
            if host.get("AutoRemove") and parse_policy(req.restart)["Name"] != "no":
                raise InvalidArgument("Restart policy cannot be updated because AutoRemove is enabled "
                                      "for the container")
            host["RestartPolicy"] = parse_policy(req.restart)
        if record["State"]["Running"]:
            svc.monitor_of(cid).runc.update(cid, _oci_resources(host, req))
        svc.store.update(cid, lambda r: r.update(HostConfig=host))


def _oci_resources(host: dict, req: UpdateRequest) -> dict:
    """Only what the request changes, in OCI linux.resources terms."""
    out: dict = {}
    if req.memory is not None or req.memory_swap is not None:
        memory = {"limit": host.get("Memory") or -1}
        swap = host.get("MemorySwap")
        memory["swap"] = swap if swap else (2 * host["Memory"] if host.get("Memory") else -1)
        out["memory"] = memory
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
    if cpu:
        out["cpu"] = cpu
    if req.pids_limit is not None:
        out["pids"] = {"limit": req.pids_limit if req.pids_limit > 0 else -1}
    return out


# ---- prune ----

def prune_containers(svc, filters=None) -> tuple[list[str], int]:
    """Remove every stopped container (Docker's `until`/`label` filters); (ids, bytes freed)."""
    from .disk import tree_size
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
    return deleted, freed


def _prune_match(record: dict, filters, now: float) -> bool:
    from ..opts.units import parse_timestamp
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
