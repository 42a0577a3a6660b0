"""Typed requests and records of the container service.

`CreateRequest` is what `run`/`create` (CLI) and `POST /containers/create`
(API) both decode into; the service never sees flags. Field names follow
Docker's Config / HostConfig where one exists. The edges (cli/, api/) may import
this module: it imports nothing of pallet but `pallet.record`.
"""
from __future__ import annotations

from ..record import dataclass, field


@dataclass
class MountRequest:
    type: str                  # bind | volume | tmpfs
    source: str                # host path, volume name ('' = anonymous), '' for tmpfs
    target: str
    read_only: bool = False
    options: dict = field(default_factory=dict)   # propagation, nocopy, tmpfs size/mode

    @classmethod
    def from_spec(cls, m, flag: str) -> "MountRequest":
        """A parsed -v/--mount (opts.mounts.MountSpec); `flag` names where it came from."""
        opts = {"flag": flag}
        if m.propagation:
            opts["propagation"] = m.propagation
        if getattr(m, "no_copy", False):
            opts["nocopy"] = True
        if m.type == "volume":  # volume labels/driver opts, -v mode
            opts.update({"labels": m.volume_labels, "driver_opts": m.volume_options,
                         "driver": m.volume_driver, "mode": m.mode or "z"})
        elif m.type == "tmpfs":
            opts.update({"size": m.tmpfs_size, "mode": m.tmpfs_mode})
        return cls(m.type, m.source or "", m.target, m.read_only, opts)


@dataclass
class CreateRequest:
    image: str                                   # as the user wrote it
    name: str | None = None
    cmd: list[str] | None = None                 # None: the image's CMD
    entrypoint: list[str] | None = None          # None: the image's; [] (--entrypoint "") clears it
    env: list[str] = field(default_factory=list)  # already merged from -e and --env-file
    workdir: str | None = None
    user: str | None = None
    hostname: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    tty: bool = False
    open_stdin: bool = False                     # -i
    auto_remove: bool = False                    # --rm
    read_only: bool = False
    mounts: list[MountRequest] = field(default_factory=list)
    tmpfs: dict[str, str] = field(default_factory=dict)   # target -> options
    stop_signal: str | None = None
    stop_timeout: int | None = None
    init: bool = False
    network: str = "none"
    runtime: str = "runc"                        # --runtime: any OCI runtime binary
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    security_opt: list[str] = field(default_factory=list)
    log_opts: dict[str, str] = field(default_factory=dict)
    log_driver: str = ""                           # "": Docker's default, json-file (see containers/config.py)
    restart: str = "no"
    ports: list = field(default_factory=list)     # opts.ports.PortBinding (-p)
    publish_all: bool = False
    memory: int = 0
    memory_swap: int = 0
    cpus: float = 0.0
    cpu_shares: int = 0
    cpuset_cpus: str = ""
    pids_limit: int = 0
    ulimits: list[str] = field(default_factory=list)
    group_add: list[str] = field(default_factory=list)
    shm_size: int = 0                            # --shm-size in bytes; 0: Docker's 64 MB
    pid_mode: str = ""                           # --pid host
    ipc_mode: str = ""                           # --ipc host|private|shareable
    uts_mode: str = ""                           # --uts host
    sysctls: dict[str, str] = field(default_factory=dict)
    oom_score_adj: int = 0
    cpu_period: int = 0
    cpu_quota: int = 0
    memory_reservation: int = 0
    devices: list[dict] = field(default_factory=list)  # --device, as HostConfig.Devices entries
    device_cgroup_rules: list[str] = field(default_factory=list)
    domainname: str = ""                           # --domainname
    # --cgroupns, --oom-kill-disable, --memory-swappiness, --kernel-memory, --blkio-weight,
    # --device-*-bps/iops, --annotation, --userns: HostConfig keys (containers/settings.py)
    settings: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)      # network, health, volumes_from: read by their hooks


@dataclass
class ListRequest:
    """`ps` / `GET /containers/json`: which containers, newest first."""
    all: bool = False                            # -a: stopped ones too
    filters: dict = field(default_factory=dict)  # name -> values (`opts.filters.parse_filters`)
    last: int = -1                               # -n: the n last created, any state
    latest: bool = False                         # -l
    size: bool = False                           # -s: SizeRw / SizeRootFs in each record


@dataclass
class UpdateRequest:
    """`update` / `POST /containers/{id}/update`: None leaves a limit as it is."""
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
    memory_reservation: int | None = None
    blkio_weight: int | None = None
    cpu_rt_period: int | None = None
    cpu_rt_runtime: int | None = None


@dataclass
class ExecRequest:
    container: str
    cmd: list[str]
    env: list[str] = field(default_factory=list)
    user: str | None = None
    workdir: str | None = None
    tty: bool = False
    interactive: bool = False
    detach: bool = False
    privileged: bool = False
    console_size: tuple[int, int] | None = None  # (rows, columns) of a -t terminal at start
    exec_id: str | None = None  # the instance `exec_create` made; None: created as it starts


@dataclass
class LogsRequest:
    container: str
    follow: bool = False
    tail: int | None = None       # None: all
    since: float | None = None    # seconds since the epoch
    until: float | None = None
