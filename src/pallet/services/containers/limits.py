"""A container's resource limits, checked at create on every `run`.

Owns: the daemon-side validation of resource limits (Docker's wording: "Minimum memory
limit allowed is 6MB"), applied at create (`on_create`, one hook in ContainerService.create)
and by `update` (pallet.services.containers.ops); `--ulimit` parsing into HostConfig.Ulimits
and from there into the spec's rlimits (`rlimits`, a hook in bundle_spec). Kept apart from `top`/`stats`/`update`, which
most commands never need: this module is imported by every `run`.
"""
from __future__ import annotations

import os

from ...errors import InvalidArgument

MIN_MEMORY = 6 * 1024 * 1024
ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
                "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")


# ---- limits: validation, --ulimit ----

def on_create(record: dict, req, image_config: dict) -> None:
    """At create (LimitsPlugin, pallet.services.containers.hooks): validate limits, normalise ulimits, set healthcheck.
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
