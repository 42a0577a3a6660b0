"""OCI runtime config.json generation with Docker's defaults.

Owns: the typed `SpecRequest` a container service fills from ``docker run`` flags, and
`make_spec(req) -> dict`, the config.json runc reads. Pure but for two host facts it
reads when the request leaves them unset: the hard rlimits (`host_rlimit_ceiling`) and,
for ``privileged``/``ALL``, the capability bounding set (`host_capabilities`).
Companions: `devices` (device cgroup rules, host devices), `hostfiles` (writes the
/etc/hosts, /etc/hostname, /etc/resolv.conf that `SpecRequest.etc_files` bind-mounts),
`seccomp` (the default profile).

Docker's defaults reproduced (moby oci/defaults.go + daemon/oci_linux.go):
  * capabilities: the 14-cap set, ``cap_add``/``cap_drop`` with ``ALL``; bounding =
    effective = permitted; no inheritable/ambient (Docker >= 20.10.14).
  * masked and read-only /proc and /sys paths; mounts /proc, /dev, /dev/pts, /dev/shm
    (64m), /dev/mqueue, /sys (ro), /sys/fs/cgroup (ro); device cgroup deny-all plus the
    default character devices.
  * ``privileged``: every capability, no masks, /sys and cgroup rw, all devices allowed
    (the caller passes `devices.host_devices()` to expose them), no seccomp.
  * seccomp: `pallet.runtime.seccomp.default_profile` for the final capability set, or
    with `seccomp_host` (`syscall_guard.HostTables`) its inverted form, same effect, plus
    the guard filter's program in the ``org.pallet.seccomp.guard`` annotation: whoever
    starts conmon or ``runc exec`` for this bundle must install it (`syscall_guard`).
  * ``--init``: `init_path` (Docker uses tini; on Debian ``apt-get install tini`` gives
    /usr/bin/tini-static) is bind-mounted read-only at /sbin/docker-init and the command
    becomes ``/sbin/docker-init -- args...``, as Docker does.
  * rlimits: never above the host's hard limit (runc fails without CAP_SYS_RESOURCE);
    default RLIMIT_NOFILE 1048576 as under a stock dockerd, clamped.
User mounts replace a default mount at the same destination and are sorted by depth so a
parent is mounted before its children.
"""
from __future__ import annotations

import os
from ..record import dataclass, field
from pathlib import Path

from pallet.errors import InvalidArgument
from pallet.runtime import devices, seccomp

OCI_VERSION = "1.0.2"
DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INIT_DESTINATION = "/sbin/docker-init"

DEFAULT_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]
ALL_CAPS = [  # in kernel order, CAP_CHOWN = 0 .. CAP_CHECKPOINT_RESTORE = 40
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]
MASKED_PATHS = [
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
SHM_SIZE = 64 * 1024 * 1024
DEFAULT_NOFILE = 1048576


@dataclass(frozen=True)
class Mount:
    """One OCI mount; build with `bind()` or `tmpfs()` for ``-v`` / ``--tmpfs``."""
    destination: str
    type: str
    source: str
    options: tuple[str, ...] = ()

    def to_oci(self) -> dict:
        return {"destination": self.destination, "type": self.type,
                "source": self.source, "options": list(self.options)}


def bind(source: str, destination: str, readonly: bool = False,
         propagation: str = "rprivate") -> Mount:
    """A ``-v source:destination[:ro]`` bind mount (recursive, as Docker's)."""
    if propagation not in ("private", "rprivate", "shared", "rshared", "slave", "rslave"):
        raise InvalidArgument(f"invalid mount propagation mode: {propagation!r}")
    return Mount(destination, "bind", source, ("rbind", propagation, "ro" if readonly else "rw"))


def tmpfs(destination: str, size: int | None = None, mode: int | None = None,
          options: tuple[str, ...] = ("nosuid", "nodev", "noexec")) -> Mount:
    """A ``--tmpfs destination[:size=..,mode=..]`` mount."""
    opts = list(options)
    if size is not None:
        opts.append(f"size={size}")
    if mode is not None:
        opts.append(f"mode={mode:o}")
    return Mount(destination, "tmpfs", "tmpfs", tuple(opts))


@dataclass(frozen=True)
class Resources:
    """``--memory``, ``--cpus``, ... in bytes / units runc takes; None means unset."""
    memory: int | None = None
    memory_swap: int | None = None       # -1 unlimited; Docker: default 2 x memory
    cpu_shares: int | None = None
    cpu_quota: int | None = None
    cpu_period: int | None = None
    nano_cpus: int | None = None         # --cpus 1.5 -> 1_500_000_000
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    pids_limit: int | None = None
    memory_reservation: int | None = None  # --memory-reservation: the soft limit
    memory_swappiness: int | None = None   # --memory-swappiness 0..100
    oom_kill_disable: bool = False         # --oom-kill-disable
    blkio_weight: int | None = None        # --blkio-weight 10..1000
    # --device-read-bps and friends: OCI throttle name -> [(major, minor, rate)]
    blkio_throttle: tuple[tuple[str, tuple[tuple[int, int, int], ...]], ...] = ()


@dataclass
class SpecRequest:
    """Everything `make_spec` needs, already parsed and validated by the caller."""
    args: list[str]
    rootfs: str
    env: list[str] = field(default_factory=lambda: [DEFAULT_PATH_ENV])
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    additional_gids: list[int] = field(default_factory=list)
    hostname: str = ""
    domainname: str = ""                 # --domainname
    cgroupns_private: bool = False       # --cgroupns private
    terminal: bool = False
    readonly_rootfs: bool = False
    mounts: list[Mount] = field(default_factory=list)
    host_network: bool = False           # --network host: no net namespace
    net_ns_path: str | None = None       # a namespace made beforehand (bridge networking)
    host_pid: bool = False
    host_ipc: bool = False
    host_uts: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    privileged: bool = False
    bounding_caps: list[str] | None = None  # what ALL means; None: host_capabilities()
    no_new_privileges: bool = False
    rlimits: dict[str, tuple[int, int]] = field(default_factory=dict)  # "nofile": (soft, hard)
    rlimit_ceilings: dict[str, int] | None = None  # None: this process's hard limits
    seccomp_profile: dict | None = None  # None: Docker's default; {} : unconfined
    docker_seccomp: dict | None = None   # a profile in Docker's format (--security-opt seccomp=...)
    system_paths_unconfined: bool = False  # --security-opt systempaths=unconfined
    shm_size: int = 0                    # --shm-size; 0: Docker's 64 MB
    oom_score_adj: int = 0
    seccomp_host: object | None = None  # syscall_guard.HostTables: Docker's default, inverted
    resources: Resources = field(default_factory=Resources)
    cgroups_path: str = ""
    etc_files: dict[str, str] = field(default_factory=dict)  # dest -> host file
    init_path: str | None = None
    devices: list[dict] = field(default_factory=list)        # OCI linux.devices entries
    device_cgroup_rules: list[str] = field(default_factory=list)  # "c 1:3 rwm"
    sysctls: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


def cgroups_path(container_id: str, parent: str = "/pallet") -> str:
    """runc's cgroupfs-driver path; the same plain path works on v1 and v2 hosts."""
    return f"{parent.rstrip('/')}/{container_id}"


def host_rlimit_ceiling(name: str = "nofile") -> int:
    """The current hard limit of this process, the most runc may set without CAP_SYS_RESOURCE."""
    import resource
    try:
        which = getattr(resource, f"RLIMIT_{name.upper()}")
    except AttributeError as exc:
        raise InvalidArgument(f"invalid ulimit type: {name}") from exc
    hard = resource.getrlimit(which)[1]
    return hard if hard != resource.RLIM_INFINITY else 2**64 - 1


def host_capabilities() -> list[str]:
    """The capabilities this process may pass on (its bounding set), as ``ALL`` means.

    A sandboxed host may lack some (this one has no CAP_SYS_RESOURCE); asking runc for
    one we do not hold fails with "unable to apply caps".
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return list(ALL_CAPS)
    for line in status.splitlines():
        if line.startswith("CapBnd:"):
            mask = int(line.split()[1], 16)
            return [cap for bit, cap in enumerate(ALL_CAPS) if mask >> bit & 1]
    return list(ALL_CAPS)


def capabilities(cap_add: list[str], cap_drop: list[str], privileged: bool,
                 available: list[str] | None = None) -> list[str]:
    """Docker's capability arithmetic: defaults, then drops, then adds; ``ALL`` wins.

    ``ALL`` and ``privileged`` mean every cap in `available` (default: all caps known).
    """
    everything = list(available) if available is not None else list(ALL_CAPS)
    if privileged:
        return everything
    add = [_cap_name(c) for c in cap_add]
    drop = [_cap_name(c) for c in cap_drop]
    if "ALL" in add:
        return [c for c in everything if c not in drop]
    base = [] if "ALL" in drop else [c for c in DEFAULT_CAPS if c not in drop]
    # an explicit add wins over a drop of the same cap, as in Docker
    return base + [c for c in dict.fromkeys(add) if c not in base]


def cap_name(cap: str) -> str:
    """A capability as Docker stores it: upper case with CAP_ (``ALL`` as is); not checked."""
    name = cap.upper()
    return name if name == "ALL" or name.startswith("CAP_") else "CAP_" + name


def _cap_name(cap: str) -> str:
    name = cap_name(cap)
    if name != "ALL" and name not in ALL_CAPS:
        raise InvalidArgument(f"invalid capability: {cap!r}")
    return name


def make_spec(req: SpecRequest) -> dict:
    """The config.json for `req` (see the module docstring for the defaults)."""
    if not req.args:
        raise InvalidArgument("no command specified")
    available = req.bounding_caps
    if available is None and (req.privileged or any(c.upper() == "ALL" for c in req.cap_add)):
        available = host_capabilities()
    caps = capabilities(req.cap_add, req.cap_drop, req.privileged, available)
    linux = _linux(req, caps)
    annotations = dict(req.annotations)
    if uses_guard(req):
        annotations[GUARD_ANNOTATION] = req.seccomp_host.guard.hex()
    return {
        "ociVersion": OCI_VERSION,
        "process": _process(req, caps),
        "root": {"path": req.rootfs, "readonly": req.readonly_rootfs},
        "hostname": req.hostname,
        "mounts": [m.to_oci() for m in _mounts(req)],
        "linux": linux,
        "annotations": annotations,
    }


GUARD_ANNOTATION = "org.pallet.seccomp.guard"


def uses_guard(req: SpecRequest) -> bool:
    """Whether the bundle gets Docker's default profile in the inverted form (and so needs
    the guard under conmon and ``runc exec``)."""
    return (req.seccomp_host is not None and not req.privileged and req.seccomp_profile is None
            and req.docker_seccomp is None)


def _process(req: SpecRequest, caps: list[str]) -> dict:
    args = list(req.args)
    if req.init_path:
        args = [INIT_DESTINATION, "--", *args]
    process = {
        "terminal": req.terminal,
        "user": {"uid": req.uid, "gid": req.gid},
        "args": args,
        "env": list(req.env),
        "cwd": req.cwd,
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "rlimits": _rlimits(req),
        "noNewPrivileges": req.no_new_privileges,
        "oomScoreAdj": req.oom_score_adj,
    }
    if req.additional_gids:
        process["user"]["additionalGids"] = list(req.additional_gids)
    return process


def exec_process(base: dict, args: list[str], *, env: list[str] = (), cwd: str | None = None,
                 uid: int | None = None, gid: int = 0, additional_gids: list[int] = (),
                 terminal: bool = False, privileged: bool = False) -> dict:
    """The OCI process ``docker exec`` runs: the container's own (`base`, from its bundle:
    capabilities, rlimits, no_new_privileges, environment) with the exec's command, `env`
    replacing or adding variables, `cwd`, user and groups when given (`uid` None: the
    container's), a terminal if asked, and every capability the host has if `privileged`."""
    process = {k: v for k, v in base.items() if k not in ("args", "terminal", "consoleSize")}
    process["args"] = list(args)
    process["terminal"] = terminal
    merged = {e.partition("=")[0]: e for e in base.get("env") or []}
    if terminal:
        merged.setdefault("TERM", "TERM=xterm")
    for entry in env:  # Docker's ReplaceOrAppendEnvValues: a bare KEY removes it
        key, eq, _ = entry.partition("=")
        if eq:
            merged[key] = entry
        else:
            merged.pop(key, None)
    process["env"] = list(merged.values())
    if cwd:
        process["cwd"] = cwd
    if uid is not None:
        process["user"] = {"uid": uid, "gid": gid, **({"additionalGids": list(additional_gids)}
                                                     if additional_gids else {})}
    if privileged:
        caps = host_capabilities()
        process["capabilities"] = {k: list(caps) for k in ("bounding", "effective", "permitted")}
    return process


def _rlimits(req: SpecRequest) -> list[dict]:
    wanted = {"nofile": (DEFAULT_NOFILE, DEFAULT_NOFILE), **req.rlimits}
    out = []
    for name, (soft, hard) in sorted(wanted.items()):
        if soft > hard:
            raise InvalidArgument(f"ulimit soft limit must be less than or equal to hard limit: "
                                  f"{soft} > {hard}")
        ceiling = (req.rlimit_ceilings.get(name) if req.rlimit_ceilings is not None
                   else host_rlimit_ceiling(name))
        if ceiling is not None:
            hard = min(hard, ceiling)
            soft = min(soft, hard)
        out.append({"type": f"RLIMIT_{name.upper()}", "hard": hard, "soft": soft})
    return out


def _default_mounts(privileged: bool, shm_size: int = SHM_SIZE) -> list[Mount]:
    sys_mode = "rw" if privileged else "ro"
    return [
        Mount("/proc", "proc", "proc", ("nosuid", "noexec", "nodev")),
        Mount("/dev", "tmpfs", "tmpfs", ("nosuid", "strictatime", "mode=755", "size=65536k")),
        Mount("/dev/pts", "devpts", "devpts",
              ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
        Mount("/sys", "sysfs", "sysfs", ("nosuid", "noexec", "nodev", sys_mode)),
        Mount("/sys/fs/cgroup", "cgroup", "cgroup", ("nosuid", "noexec", "nodev", sys_mode)),
        Mount("/dev/mqueue", "mqueue", "mqueue", ("nosuid", "noexec", "nodev")),
        Mount("/dev/shm", "tmpfs", "shm",
              ("nosuid", "noexec", "nodev", "mode=1777", f"size={shm_size}")),
    ]


def _mounts(req: SpecRequest) -> list[Mount]:
    user = list(req.mounts)
    user += [bind(src, dest) for dest, src in sorted(req.etc_files.items())]
    if req.init_path:
        user.append(bind(req.init_path, INIT_DESTINATION, readonly=True))
    taken = {os.path.normpath(m.destination) for m in user}
    defaults = [m for m in _default_mounts(req.privileged, req.shm_size or SHM_SIZE)
                if m.destination not in taken]
    user.sort(key=lambda m: os.path.normpath(m.destination).count("/"))
    return defaults + user


def _namespaces(req: SpecRequest) -> list[dict]:
    spaces = [{"type": "mount"}]
    if not req.host_pid:
        spaces.append({"type": "pid"})
    if not req.host_ipc:
        spaces.append({"type": "ipc"})
    if not req.host_uts:
        spaces.append({"type": "uts"})
    if req.cgroupns_private:
        spaces.append({"type": "cgroup"})
    if req.net_ns_path:
        spaces.append({"type": "network", "path": req.net_ns_path})
    elif not req.host_network:
        spaces.append({"type": "network"})
    return spaces


def _linux(req: SpecRequest, caps: list[str]) -> dict:
    linux: dict = {
        "namespaces": _namespaces(req),
        "resources": _resources(req),
        "devices": [devices.oci_entry(d) for d in req.devices],
        "sysctl": dict(req.sysctls),
    }
    if req.domainname and not req.host_uts:  # as moby sets it: runc 1.1 has no spec.domainname
        linux["sysctl"]["kernel.domainname"] = req.domainname
    if req.cgroups_path:
        linux["cgroupsPath"] = req.cgroups_path
    if not req.privileged:
        if not req.system_paths_unconfined:
            linux["maskedPaths"] = list(MASKED_PATHS)
            linux["readonlyPaths"] = list(READONLY_PATHS)
        if uses_guard(req):
            profile = seccomp.inverted_profile(caps, req.seccomp_host.names)
        elif req.docker_seccomp is not None:
            try:
                profile = seccomp.from_docker_profile(req.docker_seccomp, caps)
            except seccomp.ProfileError as exc:
                raise InvalidArgument(str(exc)) from None
        elif req.seccomp_profile is None:
            profile = seccomp.default_profile(caps, x32=kernel_runs_x32())
        else:
            profile = req.seccomp_profile
        if profile:
            linux["seccomp"] = profile
    return linux


def _resources(req: SpecRequest) -> dict:
    res = req.resources
    out: dict = {"devices": devices.device_rules(req.privileged, req.devices,
                                                 req.device_cgroup_rules)}
    memory = {k: v for k, v in (("limit", res.memory), ("swap", res.memory_swap),
                                ("reservation", res.memory_reservation)) if v}
    if res.memory and res.memory_swap is None:
        memory["swap"] = 2 * res.memory  # Docker: swap defaults to twice the memory limit
    if res.memory_swappiness is not None:
        memory["swappiness"] = res.memory_swappiness
    if res.oom_kill_disable:
        memory["disableOOMKiller"] = True
    if memory:
        out["memory"] = memory
    block = {name: [{"major": ma, "minor": mi, "rate": rate} for ma, mi, rate in entries]
             for name, entries in res.blkio_throttle if entries}
    if res.blkio_weight:
        block["weight"] = res.blkio_weight
    if block:
        out["blockIO"] = block
    cpu: dict = {}
    if res.cpu_shares:
        cpu["shares"] = res.cpu_shares
    if res.nano_cpus:
        cpu["period"] = 100_000
        cpu["quota"] = res.nano_cpus * 100_000 // 1_000_000_000
    if res.cpu_quota:
        cpu["quota"] = res.cpu_quota
    if res.cpu_period:
        cpu["period"] = res.cpu_period
    if res.cpuset_cpus:
        cpu["cpus"] = res.cpuset_cpus
    if res.cpuset_mems:
        cpu["mems"] = res.cpuset_mems
    if cpu:
        out["cpu"] = cpu
    if res.pids_limit:
        out["pids"] = {"limit": res.pids_limit}
    return out


_X32: list[bool] = []


def kernel_runs_x32() -> bool:
    """Whether this kernel executes x32-ABI system calls (probed once: getpid with the x32
    bit set answers ENOSYS when CONFIG_X86_X32_ABI is off)."""
    if not _X32:
        if os.uname().machine != "x86_64":
            _X32.append(False)
        else:
            from .. import libc
            try:
                libc.syscall(0x40000000 | 39)
                _X32.append(True)
            except OSError as exc:
                _X32.append(exc.errno != 38)
    return _X32[0]
