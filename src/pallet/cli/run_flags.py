"""`run`/`create` flags and their decoding into a CreateRequest (shared by both verbs)."""
from __future__ import annotations

import os

from ..errors import InvalidArgument, UsageError
from .flags import F

RUN_FLAGS = [
    F("add-host", kind="list", help="Add a custom host-to-IP mapping (host:ip)"),
    F("annotation", kind="list", help="Add an annotation to the container (passed through to the OCI runtime)"),
    F("attach", "a", kind="list", help="Attach to STDIN, STDOUT or STDERR"),
    F("blkio-weight", kind="int", default=0, help="Block IO (relative weight), between 10 and 1000, or 0 to disable"),
    F("cap-add", kind="list", help="Add Linux capabilities"),
    F("cap-drop", kind="list", help="Drop Linux capabilities"),
    F("cgroupns", kind="str", default="", help="Cgroup namespace to use (host|private)"),
    F("cidfile", kind="str", help="Write the container ID to the file"),
    F("cpu-period", kind="int", default=0, help="Limit CPU CFS (Completely Fair Scheduler) period"),
    F("cpu-quota", kind="int", default=0, help="Limit CPU CFS (Completely Fair Scheduler) quota"),
    F("cpu-shares", "c", kind="int", default=0, help="CPU shares (relative weight)"),
    F("cpus", kind="str", help="Number of CPUs"),
    F("cpuset-cpus", kind="str", default="", help="CPUs in which to allow execution (0-3, 0,1)"),
    F("detach", "d", help="Run container in background and print container ID"),
    F("detach-keys", kind="str", help="Override the key sequence for detaching a container"),
    F("device", kind="list", help="Add a host device to the container"),
    F("device-cgroup-rule", kind="list", help="Add a rule to the cgroup allowed devices list"),
    F("device-read-bps", kind="list", help="Limit read rate (bytes per second) from a device"),
    F("device-read-iops", kind="list", help="Limit read rate (IO per second) from a device"),
    F("device-write-bps", kind="list", help="Limit write rate (bytes per second) to a device"),
    F("device-write-iops", kind="list", help="Limit write rate (IO per second) to a device"),
    F("dns", kind="list", help="Set custom DNS servers"),
    F("dns-opt", kind="list", hidden=True, dest="dns_option"),
    F("dns-option", kind="list", help="Set DNS options"),
    F("dns-search", kind="list", help="Set custom DNS search domains"),
    F("domainname", kind="str", default="", help="Container NIS domain name"),
    F("entrypoint", kind="str", help="Overwrite the default ENTRYPOINT of the image"),
    F("env", "e", kind="list", help="Set environment variables"),
    F("env-file", kind="list", help="Read in a file of environment variables"),
    F("expose", kind="list", help="Expose a port or a range of ports"),
    F("gpus", kind="str", help="GPU devices to add to the container ('all' to pass all GPUs)"),
    F("group-add", kind="list", help="Add additional groups to join"),
    F("health-cmd", kind="str", help="Command to run to check health"),
    F("health-interval", kind="str", help="Time between running the check"),
    F("health-on-failure", kind="str", help="Action on an unhealthy container: none, kill, restart or stop"),
    F("health-retries", kind="int", help="Consecutive failures needed to report unhealthy"),
    F("health-start-interval", kind="str", help="Time between running the check during the start period"),
    F("health-start-period", kind="str", help="Start period for the container to initialize"),
    F("health-timeout", kind="str", help="Maximum time to allow one check to run"),
    F("hostname", "h", kind="str", help="Container host name"),
    F("init", help="Run an init inside the container that forwards signals and reaps processes"),
    F("interactive", "i", help="Keep STDIN open even if not attached"),
    F("ip", kind="str", help="IPv4 address (e.g., 172.30.100.104)"),
    F("ip6", kind="str", help="IPv6 address (e.g., 2001:db8::33)"),
    F("ipc", kind="str", default="", help="IPC mode to use"),
    F("kernel-memory", kind="str", help="Kernel memory limit"),
    F("label", "l", kind="list", help="Set meta data on a container"),
    F("label-file", kind="list", help="Read in a line delimited file of labels"),
    F("link", kind="list", help="Add link to another container"),
    F("log-driver", kind="str", help="Logging driver for the container"),
    F("log-opt", kind="list", help="Log driver options (max-size, max-file)"),
    F("mac-address", kind="str", help="Container MAC address (e.g., 92:d0:c6:0a:29:33)"),
    F("memory", "m", kind="str", help="Memory limit"),
    F("memory-reservation", kind="str", help="Memory soft limit"),
    F("memory-swap", kind="str", help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
    F("memory-swappiness", kind="int", default=-1, help="Tune container memory swappiness (0 to 100)"),
    F("mount", kind="list", help="Attach a filesystem mount to the container"),
    F("name", kind="str", help="Assign a name to the container"),
    F("net", kind="str", hidden=True, dest="network"),
    F("network", kind="str", help="Connect a container to a network", dest="network", metavar="network"),
    F("network-alias", kind="list", help="Add network-scoped alias for the container"),
    F("no-healthcheck", help="Disable any container-specified HEALTHCHECK"),
    F("oom-kill-disable", help="Disable OOM Killer"),
    F("oom-score-adj", kind="int", default=0, help="Tune host's OOM preferences (-1000 to 1000)"),
    F("pid", kind="str", default="", help="PID namespace to use"),
    F("pids-limit", kind="int", default=0, help="Tune container pids limit (set -1 for unlimited)"),
    F("platform", kind="str", help="Set platform if server is multi-platform capable"),
    F("privileged", help="Give extended privileges to this container"),
    F("publish", "p", kind="list", help="Publish a container's port(s) to the host"),
    F("publish-all", "P", help="Publish all exposed ports to random ports"),
    F("pull", kind="str", default="missing", help='Pull image before running ("always", "missing", "never")'),
    F("quiet", "q", help="Suppress the pull output"),
    F("read-only", help="Mount the container's root filesystem as read only"),
    F("restart", kind="str", default="no", help="Restart policy to apply when a container exits"),
    F("rm", help="Automatically remove the container and its associated anonymous volumes when it exits"),
    F("runtime", kind="str", default="runc", help="Runtime to use for this container"),
    F("security-opt", kind="list", help="Security Options"),
    F("shm-size", kind="str", help="Size of /dev/shm"),
    F("sig-proxy", kind="bool", default=True, help="Proxy received signals to the process"),
    F("stop-signal", kind="str", help="Signal to stop the container"),
    F("stop-timeout", kind="int", help="Timeout (in seconds) to stop a container"),
    F("storage-opt", kind="list", help="Storage driver options for the container"),
    F("sysctl", kind="list", help="Sysctl options"),
    F("tmpfs", kind="list", help="Mount a tmpfs directory"),
    F("tty", "t", help="Allocate a pseudo-TTY"),
    F("ulimit", kind="list", help="Ulimit options"),
    F("user", "u", kind="str", help="Username or UID (format: <name|uid>[:<group|gid>])"),
    F("userns", kind="str", default="", help="User namespace to use"),
    F("uts", kind="str", default="", help="UTS namespace to use"),
    F("volume", "v", kind="list", help="Bind mount a volume"),
    F("volumes-from", kind="list", help="Mount volumes from the specified container(s)"),
    F("workdir", "w", kind="str", help="Working directory inside the container"),
]

def _labels(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        k, _, v = item.partition("=")
        if not k:
            raise UsageError(f'invalid argument "{item}" for "-l, --label" flag: invalid label \'{item}\': empty name')
        out[k] = v
    return out


def _mounts(o) -> list:
    if not o.volume and not o.mount:
        return []
    from ..opts.mounts import parse_mount, parse_volume
    cwd = os.getcwd()
    specs = [(parse_volume(v, cwd=cwd), "-v") for v in o.volume]
    for value in o.mount:
        try:
            specs.append((parse_mount(value, cwd=cwd), "--mount"))
        except UsageError as exc:  # what docker/cli refuses as it reads the flag
            raise UsageError(f'invalid argument "{value}" for "--mount" flag: {exc}') from None
    from ..services.container_types import MountRequest
    return [MountRequest.from_spec(m, flag) for m, flag in specs]


def _tmpfs(items: list[str]) -> dict[str, str]:
    return dict(item.partition(":")[::2] for item in items)  # checked by the service


def _flag_bytes(text: str | None, flag: str) -> int:
    """A size flag as Docker's CLI takes it (go-units RAMInBytes); its error is a flag error."""
    if not text:
        return 0
    from ..opts.units import parse_bytes
    try:
        return parse_bytes(text)
    except InvalidArgument as exc:
        raise UsageError(f'invalid argument "{text}" for "--{flag}" flag: {exc}') from None


def _mode(value: str, kind: str, valid: tuple[str, ...]) -> str:
    if value not in valid:
        raise UsageError(f"--{kind.lower()}: invalid {kind} mode")
    return value


# what docker/cli lets --sysctl set: namespaced kernel parameters only
SYSCTLS = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
           "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}
SYSCTL_PREFIXES = ("net.", "fs.mqueue.")


def _sysctls(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not (key in SYSCTLS or key.startswith(SYSCTL_PREFIXES)):
            raise UsageError(f'invalid argument "{item}" for "--sysctl" flag: sysctl \'{item}\' is not allowed')
        out[key] = value
    return out


def _devices(items: list[str]) -> list[dict]:
    if not items:
        return []
    from ..opts.devices import parse_device
    out = []
    for item in items:
        try:
            out.append(parse_device(item))
        except InvalidArgument as exc:
            raise UsageError(f'invalid argument "{item}" for "--device" flag: {exc}') from None
    return out


def _security_opts(items: list[str]) -> list[str]:
    if not items:
        return []
    from ..opts.security import cli_options
    return cli_options(items)


def _cpus(text: str | None) -> float:
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f'invalid argument "{text}" for "--cpus" flag: failed to parse {text} as a '
                         "rational number") from None
    return value  # its range is the service's to check (container_limits.check_resources)


def _health(o) -> dict:
    if not (o.health_cmd or o.health_interval or o.health_timeout or o.health_start_period
            or o.health_start_interval
            or o.health_retries is not None or o.no_healthcheck or o.get("health_on_failure")):
        return {"none": False, "on_failure": None}  # without importing the stats/top module
    from .container_ops import health_flags
    return health_flags(o)


def print_warnings(ctx, req) -> None:
    """The daemon's create warnings, as docker/cli prints them (stderr, `WARNING: `)."""
    for warning in ctx.engine.containers.create_warnings(req):
        ctx.err(f"WARNING: {warning}")


def _all_labels(o) -> dict[str, str]:
    """--label-file lines, then --label (docker/cli's ReadKVStrings: the flags win)."""
    if not o.label_file:
        return _labels(o.label)
    from ..opts.env import read_env_file
    lines = [line for path in o.label_file for line in read_env_file(path, lambda _k: None)]
    return _labels(lines + list(o.label))


def _settings(o) -> dict:
    """The HostConfig settings of pallet.services.containers.settings, from their flags."""
    out: dict = {}
    if o.cgroupns not in ("", "host", "private"):
        raise UsageError("--cgroupns: invalid CGROUP mode")
    if o.userns not in ("", "host"):
        raise UsageError("--userns: invalid USER mode")
    if o.storage_opt:  # pallet's overlay has no quota support: Docker's words for that case
        raise InvalidArgument("--storage-opt is supported only for overlay over xfs with 'pquota' "
                              "mount option")
    if o.gpus is not None:  # no NVIDIA runtime here: what dockerd answers without one
        raise InvalidArgument('could not select device driver "" with capabilities: [[gpu]]')
    if o.cgroupns:
        out["CgroupnsMode"] = o.cgroupns
    if o.userns:
        out["UsernsMode"] = o.userns
    if o.oom_kill_disable:
        out["OomKillDisable"] = True
    if o.memory_swappiness != -1:
        out["MemorySwappiness"] = o.memory_swappiness
    if o.kernel_memory:
        out["KernelMemory"] = _flag_bytes(o.kernel_memory, "kernel-memory")
    if o.blkio_weight:
        out["BlkioWeight"] = o.blkio_weight
    if o.annotation:
        out["Annotations"] = _annotations(o.annotation)
    _throttles(o, out)
    return out


def _annotations(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not key or not eq:
            raise UsageError(f'invalid argument "{item}" for "--annotation" flag: invalid '
                             f"annotation '{item}': expected key=value")
        out[key] = value
    return out


def _throttles(o, out: dict) -> None:
    flags = (("device_read_bps", "BlkioDeviceReadBps", False), ("device_write_bps", "BlkioDeviceWriteBps", False),
             ("device_read_iops", "BlkioDeviceReadIOps", True), ("device_write_iops", "BlkioDeviceWriteIOps", True))
    for name, key, iops in flags:
        if o[name]:
            from ..opts.blkio import parse_throttle
            out[key] = [parse_throttle(v, name.replace("_", "-"), iops) for v in o[name]]


def create_request(o, args: list[str]):
    from ..opts.env import env_options
    from ..opts.units import parse_bytes
    from ..services.container_types import CreateRequest
    image, cmd = args[0], args[1:]
    from .network_flags import network_options, publish
    network = o.network or "bridge"
    entrypoint = None
    if o.entrypoint is not None:
        entrypoint = [o.entrypoint] if o.entrypoint else []
    log_opts = {}
    for item in o.log_opt:
        k, eq, v = item.partition("=")
        if not eq:
            raise InvalidArgument(f"invalid log opt: {item}")
        log_opts[k] = v
    return CreateRequest(
        image=image, name=o.name, cmd=cmd or None, entrypoint=entrypoint,
        env=env_options(o.env, o.env_file), workdir=o.workdir, user=o.user, hostname=o.hostname,
        labels=_all_labels(o), tty=o.tty, open_stdin=o.interactive, auto_remove=o.rm,
        read_only=o.read_only, mounts=_mounts(o), tmpfs=_tmpfs(o.tmpfs), stop_signal=o.stop_signal,
        stop_timeout=o.stop_timeout, init=o.init, network=network, privileged=o.privileged,
        cap_add=o.cap_add, cap_drop=o.cap_drop, security_opt=_security_opts(o.security_opt), log_opts=log_opts,
        log_driver=o.log_driver or "",
        restart=o.restart, ports=publish(o.publish), publish_all=o.publish_all,
        memory=parse_bytes(o.memory) if o.memory else 0,
        memory_swap=(-1 if o.memory_swap == "-1" else parse_bytes(o.memory_swap)) if o.memory_swap else 0,
        cpus=_cpus(o.cpus), cpu_shares=o.cpu_shares, cpuset_cpus=o.cpuset_cpus,
        pids_limit=o.pids_limit, ulimits=o.ulimit, runtime=o.runtime, group_add=o.group_add,
        shm_size=_flag_bytes(o.shm_size, "shm-size"), devices=_devices(o.device),
        pid_mode=_mode(o.pid, "PID", ("", "host")), uts_mode=_mode(o.uts, "UTS", ("", "host")),
        ipc_mode=o.ipc, sysctls=_sysctls(o.sysctl), oom_score_adj=o.oom_score_adj,
        cpu_period=o.cpu_period, cpu_quota=o.cpu_quota,
        memory_reservation=_flag_bytes(o.memory_reservation, "memory-reservation"),
        device_cgroup_rules=o.device_cgroup_rule, domainname=o.domainname, settings=_settings(o),
        extra={"health": _health(o), "volumes_from": o.volumes_from, "network": network_options(o)},
    )
