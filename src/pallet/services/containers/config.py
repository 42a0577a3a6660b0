"""From a request and an image config to a container record, and from a record to a bundle.

`build_record` applies Docker's rules (entrypoint/cmd, env merge, workdir,
labels) once, at create time; the record is Docker-shaped (Config, HostConfig,
Mounts, State) so inspect is a projection of it. `bundle_spec` turns a record
into config.json each time the container starts.
"""
from __future__ import annotations

import os
from pathlib import Path

from ... import jsontext
from ...errors import InvalidArgument, NotFound
from ...oci.image import now_rfc3339
from .state import new_state
from ..container_types import CreateRequest

DEFAULT_LOG_MAX = "10m"   # logs are bounded unless the user asks otherwise (moby#40207)
DEFAULT_SHM_SIZE = 64 * 1024 * 1024  # what Docker's HostConfig.ShmSize says when --shm-size is not given
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def container_name(name: str) -> str:
    """`name` as stored (no leading '/'), if it is Docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+ (by
    set, not regex: see pallet.jsontext on `re`).

    moby's reserveName checks the name without one leading '/' (it stores names as "/foo"),
    so `--name /foo` makes `foo`; the refusal quotes the name as given. The `+` means a
    name has at least two characters: moby refuses `--name a`."""
    bare = name[1:] if name.startswith("/") else name
    if len(bare) < 2 or bare[0] in "_.-" or not _NAME_CHARS.issuperset(bare):
        raise InvalidArgument(f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed')
    return bare


def check_mounts(req: CreateRequest) -> None:
    """Docker's rules: -v creates a missing host directory, --mount refuses it."""
    for m in req.mounts:
        if m.target in ("/", "/proc") or m.target.startswith("/proc/"):
            raise InvalidArgument(f"invalid mount config: mount destination {m.target} is not allowed")
        if m.type == "bind":
            if os.path.exists(m.source):
                continue
            if m.options.get("flag") == "--mount":
                raise InvalidArgument(f'invalid mount config for type "bind": bind source path does not '
                                      f"exist: {m.source}")
            os.makedirs(m.source, exist_ok=True)


def merge_env(base: list[str], extra: list[str]) -> list[str]:
    out = {e.split("=", 1)[0]: e for e in base}
    for e in extra:
        out[e.split("=", 1)[0]] = e
    return list(out.values())


def command_of(req: CreateRequest, cfg: dict) -> tuple[list[str], list[str]]:
    """(entrypoint, cmd) by Docker's rules: --entrypoint resets the image's CMD."""
    if req.entrypoint is not None:
        return list(req.entrypoint), list(req.cmd or [])
    entrypoint = list(cfg.get("Entrypoint") or [])
    cmd = list(req.cmd) if req.cmd else list(cfg.get("Cmd") or [])
    return entrypoint, cmd


def build_record(cid: str, name: str, image_id: str, req: CreateRequest, image_config: dict, svc) -> dict:
    cfg = image_config.get("config") or {}
    entrypoint, cmd = command_of(req, cfg)
    argv = entrypoint + cmd
    if not argv:
        raise InvalidArgument("No command specified")
    _check_settings(req)
    env = merge_env(cfg.get("Env") or [], req.env)  # PATH, if missing, is the process's default
    userdata = svc.userdata(cid)
    log_opts = {} if req.log_driver == "none" else {"max-size": DEFAULT_LOG_MAX, **req.log_opts}
    return {
        "Id": cid, "_created": _now(), "Created": now_rfc3339(),
        "Path": argv[0], "Args": argv[1:], "State": new_state(), "Image": image_id,
        "ResolvConfPath": str(userdata / "resolv.conf"), "HostnamePath": str(userdata / "hostname"),
        "HostsPath": str(userdata / "hosts"), "LogPath": str(userdata / "ctr.log"),
        "Name": "/" + name, "RestartCount": 0, "Driver": "overlay", "Platform": "linux",
        "Config": {
            "Hostname": req.hostname or _default_hostname(req, cid), "Domainname": req.domainname, "User": req.user or cfg.get("User", ""),
            "AttachStdin": req.open_stdin, "AttachStdout": True, "AttachStderr": True,
            "ExposedPorts": cfg.get("ExposedPorts"), "Tty": req.tty, "OpenStdin": req.open_stdin,
            "StdinOnce": req.open_stdin, "Env": env, "Cmd": cmd or None, "Image": req.image,
            "Volumes": cfg.get("Volumes"), "WorkingDir": req.workdir or cfg.get("WorkingDir", ""),
            "Entrypoint": entrypoint or None, "OnBuild": None,
            "Labels": {**(cfg.get("Labels") or {}), **req.labels},
            "StopSignal": req.stop_signal or cfg.get("StopSignal"), "StopTimeout": req.stop_timeout,
        },
        "HostConfig": _host_config(req, log_opts),
        "Mounts": [_mount_point(m) for m in req.mounts],
    }


def _check_settings(req: CreateRequest) -> None:
    """What Docker's daemon refuses before it makes anything (verifyContainerSettings)."""
    if req.workdir and not req.workdir.startswith("/"):
        raise InvalidArgument(f"the working directory '{req.workdir}' is invalid, "
                              "it needs to be an absolute path")
    if req.stop_signal:
        from ...opts.signals import parse_signal
        parse_signal(req.stop_signal)  # "Invalid signal: FOO"
    for flag, caps in (("CapAdd", req.cap_add), ("CapDrop", req.cap_drop)):
        _check_caps(flag, caps)
    _check_namespaces(req)
    if req.settings:
        _settings().check(req.settings)
    if req.devices or req.device_cgroup_rules:
        from ...runtime.devices import mapped_devices, parse_rule
        for mapping in req.devices:
            mapped_devices(mapping)  # Docker finds out at start; nothing half-made here
        for rule in req.device_cgroup_rules:
            parse_rule(rule)
    profile = _security_spec(req.security_opt).get("docker_seccomp")
    if profile is not None:  # a profile Docker would refuse fails here, not at start
        from ...runtime.seccomp import ProfileError, from_docker_profile
        from ...runtime.spec import DEFAULT_CAPS
        try:
            from_docker_profile(profile, list(DEFAULT_CAPS))
        except ProfileError as exc:
            raise InvalidArgument(str(exc)) from None


def _default_hostname(req: CreateRequest, cid: str) -> str:
    """Docker's: the host's name for a container sharing its network or UTS namespace."""
    return os.uname().nodename if "host" in (req.network, req.uts_mode) else cid[:12]


def _check_namespaces(req: CreateRequest) -> None:
    if req.ipc_mode not in ("", "private", "shareable", "host"):
        raise InvalidArgument(f"invalid IPC mode: {req.ipc_mode}")
    if req.uts_mode == "host" and req.hostname:
        raise InvalidArgument("conflicting options: hostname and the UTS mode")
    if not -1000 <= req.oom_score_adj <= 1000:
        raise InvalidArgument(f"Invalid value {req.oom_score_adj}, range for oom score adj is [-1000, 1000]")
    for key in req.sysctls:  # runc would write them into the host's own namespace
        if key.startswith("net.") and req.network == "host":
            raise InvalidArgument(f"sysctl {key!r} is not allowed in host network namespace")
        if not key.startswith("net.") and req.ipc_mode == "host":
            raise InvalidArgument(f"sysctl {key!r} is not allowed in host IPC namespace")


def _cap_names(caps: list[str]) -> list[str] | None:
    """As Docker's daemon stores them (CAP_NET_ADMIN)."""
    from ...runtime.spec import cap_name
    return [cap_name(c) for c in caps] or None


def _check_caps(flag: str, caps: list[str]) -> None:
    from ...runtime.spec import ALL_CAPS
    for name in _cap_names(caps) or []:
        if name != "ALL" and name not in ALL_CAPS:
            raise InvalidArgument(f'invalid {flag}: unknown capability: "{name}"')


def _now() -> float:
    import time
    return time.time()


# What `--log-driver` can name: pallet's one log (conmon's k8s-file format, bounded, readable
# by `logs`), which Docker's json-file and local stand for, and `none` (nothing kept). Any other
# name is refused as dockerd refuses a driver it does not have. Inspect shows the name given,
# json-file by default, as Docker's does: clients read logs only from a driver they know
# (docker-py's `containers.run` returns a container's output only for json-file and journald).
LOG_DRIVERS = ("json-file", "local", "k8s-file", "none")


def log_driver(name: str | None) -> str:
    if not name:
        return "json-file"
    if name not in LOG_DRIVERS:
        raise InvalidArgument(f'error looking up logging plugin {name}: plugin "{name}" not found')
    return name


def check_logs_readable(record: dict) -> None:
    """moby's ErrReadLogsNotSupported, for `logs` of a container that keeps none."""
    from ...errors import NotImplemented
    if (record["HostConfig"].get("LogConfig") or {}).get("Type") == "none":
        raise NotImplemented("configured logging driver does not support reading")


def _host_config(req: CreateRequest, log_opts: dict) -> dict:
    name, _, count = req.restart.partition(":")
    return {
        "Binds": [f"{m.source}:{m.target}" + (":ro" if m.read_only else "")
                  for m in req.mounts if m.type == "bind"] or None,
        "LogConfig": {"Type": log_driver(req.log_driver), "Config": log_opts},
        "NetworkMode": req.network, "PortBindings": {}, "RestartPolicy": {
            "Name": name or "no", "MaximumRetryCount": int(count or 0)},
        "AutoRemove": req.auto_remove, "CapAdd": _cap_names(req.cap_add), "CapDrop": _cap_names(req.cap_drop),
        "Privileged": req.privileged, "ReadonlyRootfs": req.read_only,
        "SecurityOpt": req.security_opt or None, "Tmpfs": req.tmpfs or None, "Init": req.init or None,
        "Runtime": req.runtime, "Memory": req.memory, "MemorySwap": req.memory_swap or 2 * req.memory, "NanoCpus": int(req.cpus * 1e9),
        "CpuShares": req.cpu_shares, "CpusetCpus": req.cpuset_cpus, "PidsLimit": req.pids_limit or None,
        "Ulimits": req.ulimits or None, "GroupAdd": req.group_add or None,
        "ShmSize": req.shm_size or DEFAULT_SHM_SIZE,
        "Devices": req.devices or [], "DeviceCgroupRules": req.device_cgroup_rules or None,
        "PidMode": req.pid_mode, "IpcMode": req.ipc_mode or "private", "UTSMode": req.uts_mode,
        "Sysctls": req.sysctls or None, "OomScoreAdj": req.oom_score_adj, "CpuPeriod": req.cpu_period,
        "CpuQuota": req.cpu_quota, "MemoryReservation": req.memory_reservation,
        **_settings().host_config(req.settings),
    }


def _settings():
    from . import settings
    return settings


def _mount_point(m) -> dict:
    return {"Type": m.type, "Source": m.source, "Destination": m.target, "Mode": "ro" if m.read_only else "",
            "RW": not m.read_only, "Propagation": m.options.get("propagation", "rprivate")}


# ---------------- bundle ----------------

def _read_in_root(rootfs: Path, rel: str) -> str:
    """Read a file of the container's tree without following any symlink out of it."""
    fd = os.open(rootfs, os.O_RDONLY | os.O_DIRECTORY)
    try:
        parts = rel.strip("/").split("/")
        for part in parts[:-1]:
            nfd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nfd
        ffd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        with os.fdopen(ffd, errors="replace") as f:
            return f.read(1 << 20)
    except OSError:
        return ""
    finally:
        os.close(fd)


def resolve_user(rootfs: Path, user: str) -> tuple[int, int, list[int]]:
    """--user name|uid[:group|gid] against the container's /etc/passwd and /etc/group."""
    if not user:
        user = "0"
    name, _, group = user.partition(":")
    passwd = [line.split(":") for line in _read_in_root(rootfs, "etc/passwd").splitlines()]
    uid = gid = None
    for f in passwd:
        if len(f) >= 4 and (f[0] == name or f[2] == name):
            uid, gid = int(f[2]), int(f[3])
            break
    if uid is None:
        if not name.isdigit():
            raise NotFound(f"unable to find user {name}: no matching entries in passwd file")
        uid, gid = int(name), 0
    groups = [line.split(":") for line in _read_in_root(rootfs, "etc/group").splitlines()]
    if group:
        match = [g for g in groups if len(g) >= 3 and (g[0] == group or g[2] == group)]
        if match:
            gid = int(match[0][2])
        elif group.isdigit():
            gid = int(group)
        else:
            raise NotFound(f"unable to find group {group}: no matching entries in group file")
    extra = [int(g[2]) for g in groups if len(g) >= 4 and name in g[3].split(",") and g[2].isdigit()]
    return uid, gid, sorted(set(extra) - {gid})


def process_groups(rootfs: Path, user: str, group_add: list[str] | None) -> tuple[int, int, list[int]]:
    """uid, gid and the supplementary groups Docker gives a container's process: its primary
    group, the groups /etc/group lists the user in, then ``--group-add`` (names or gids)."""
    uid, gid, extra = resolve_user(rootfs, user)
    added = []
    if group_add:
        groups = [line.split(":") for line in _read_in_root(rootfs, "etc/group").splitlines()]
        for want in group_add:
            match = [g for g in groups if len(g) >= 3 and g[0] == want and g[2].isdigit()]
            if match:
                added.append(int(match[0][2]))
            elif want.isdigit():
                added.append(int(want))
            else:
                raise NotFound(f"Unable to find group {want}: no matching entries in group file")
    return uid, gid, list(dict.fromkeys([gid, *extra, *added]))


def seccomp_host(svc, record: dict):
    """The host tables for Docker's default profile in its inverted form, or None (see
    `pallet.runtime.syscall_guard`); decided before conmon starts, since the guard goes
    under conmon and the bundle must agree with it."""
    host = record["HostConfig"]
    if host.get("Privileged") or any(o.startswith(("seccomp=", "seccomp:")) for o in host.get("SecurityOpt") or []):
        return None  # no seccomp, or a profile of the user's: runc gets it as it is
    from ...runtime import syscall_guard
    return syscall_guard.usable(svc.monitor_of(record["Id"]).runc.binary, svc.paths.runroot)


def bundle_spec(svc, record: dict, net=None, seccomp_host=None, volume_mounts=()) -> dict:
    """The container's config.json; `net` (a NetworkAttachment) and `volume_mounts` (volumes
    after copy-up, --mount tmpfs) are what the lifecycle's plug-ins prepared."""
    from ...runtime import spec as rs
    cid = record["Id"]
    cfg, host = record["Config"], record["HostConfig"]
    rootfs = svc.rootfs(cid)
    uid, gid, gids = process_groups(rootfs, cfg.get("User") or "", host.get("GroupAdd"))
    from ...runtime.hostfiles import write_etc_files
    etc = (net.etc_files if net and net.etc_files else
           write_etc_files(svc.userdata(cid), cfg["Hostname"], **(net.etc_args if net else {})))
    mounts = []
    for m in record["Mounts"]:
        if m["Type"] == "bind":
            mounts.append(rs.bind(m["Source"], m["Destination"], not m["RW"], m.get("Propagation", "rprivate")))
    mounts += volume_mounts
    for target, opts in (host.get("Tmpfs") or {}).items():
        mounts.append(rs.tmpfs(target, options=tuple(_tmpfs_options(opts))))
    network = host.get("NetworkMode") or "none"
    settings_spec, settings_resources = _settings().spec_fields(record)
    req = rs.SpecRequest(
        args=[record["Path"], *record["Args"]], rootfs=str(rootfs),
        env=_process_env(cfg, net.link_env if net else []),
        cwd=cfg.get("WorkingDir") or "/", uid=uid, gid=gid, additional_gids=gids,
        hostname="" if host.get("UTSMode") == "host" else cfg["Hostname"], terminal=cfg["Tty"], readonly_rootfs=host.get("ReadonlyRootfs", False),
        mounts=mounts, host_network=net.host_network if net else network == "host",
        net_ns_path=net.net_ns_path if net else None, cap_add=host.get("CapAdd") or [],
        cap_drop=host.get("CapDrop") or [], privileged=host.get("Privileged", False),
        **_security_spec(host.get("SecurityOpt")), shm_size=host.get("ShmSize") or 0,
        cgroups_path=rs.cgroups_path(cid), etc_files=etc,
        init_path=_init_path() if host.get("Init") else None,
        devices=(_privileged_devices() if host.get("Privileged") else []) + _mapped_devices(host),
        device_cgroup_rules=host.get("DeviceCgroupRules") or [],
        rlimits=_rlimits(host), seccomp_host=seccomp_host,
        resources=rs.Resources(memory=host.get("Memory") or None,
                               memory_swap=host.get("MemorySwap") or None,
                               cpu_shares=host.get("CpuShares") or None,
                               nano_cpus=host.get("NanoCpus") or None,
                               cpuset_cpus=host.get("CpusetCpus") or None,
                               pids_limit=host.get("PidsLimit") or None,
                               cpu_period=host.get("CpuPeriod") or None,
                               cpu_quota=host.get("CpuQuota") or None,
                               memory_reservation=host.get("MemoryReservation") or None,
                               **settings_resources),
        host_pid=host.get("PidMode") == "host", host_ipc=host.get("IpcMode") == "host",
        host_uts=host.get("UTSMode") == "host", sysctls=host.get("Sysctls") or {},
        oom_score_adj=host.get("OomScoreAdj") or 0, **settings_spec,
    )
    spec = rs.make_spec(req)
    from .mountpoints import confine
    confine(spec, rootfs)  # no destination may lead out of the image's tree
    (svc.userdata(cid) / "config.json").write_text(jsontext.dumps(spec))
    return spec


def _process_env(cfg: dict, link_env: list[str] = ()) -> list[str]:
    """Docker's CreateDaemonEnvironment: PATH, HOSTNAME, (with a tty) TERM=xterm and the
    legacy links' variables, which the container's own Env replaces or extends."""
    from ...opts.env import process_env
    defaults = [PATH_ENV, f"HOSTNAME={cfg['Hostname']}", *(["TERM=xterm"] if cfg.get("Tty") else []),
                *link_env]
    return process_env(defaults, cfg["Env"])


def _tmpfs_options(data: str) -> list[str]:
    from ...opts.mounts import merge_tmpfs_options
    return merge_tmpfs_options(data)


def _security_spec(options: list[str] | None) -> dict:
    """SpecRequest fields from --security-opt; none given: Docker's defaults, and the
    options module stays unloaded (every `run` starts here)."""
    if not options:
        return {}
    from ...opts.security import SecurityOptions
    security = SecurityOptions.parse(options)
    return {"no_new_privileges": security.no_new_privileges,
            "seccomp_profile": {} if security.seccomp == "unconfined" else None,
            "docker_seccomp": _docker_seccomp(security),
            "system_paths_unconfined": security.systempaths_unconfined}


def _docker_seccomp(security) -> dict | None:
    if security.seccomp in (None, "unconfined"):
        return None
    try:
        return jsontext.loads(security.seccomp)
    except ValueError as exc:
        raise InvalidArgument(f"decoding seccomp profile failed: {exc}") from None


def _rlimits(host: dict) -> dict:
    from .limits import rlimits
    return rlimits(host)


def _mapped_devices(host: dict) -> list[dict]:
    if not host.get("Devices"):
        return []
    from ...runtime.devices import mapped_devices
    return [d for m in host["Devices"] for d in mapped_devices(m)]


def _privileged_devices() -> list[dict]:
    from ...runtime.devices import host_devices
    return host_devices()


def _init_path() -> str:
    for p in ("/usr/bin/tini-static", "/usr/bin/tini"):
        if os.path.exists(p):
            return p
    raise NotFound("--init needs tini: apt-get install tini")
