"""`POST /containers/create`'s body (Config + HostConfig + NetworkingConfig) -> CreateRequest.

The same request `pallet run`/`create` decode their flags into: docker/cli already
turned its flags into this body, so what is left is the daemon's half, and that
lives in the core (the service's create checks, opts.mounts, opts.ports) where the
CLI's request goes too. A field of the wrong JSON type is a 400 in Go's decoder's words.
"""
from __future__ import annotations

import csv
import io

from ..errors import InvalidArgument
from .wire import check_type

_TYPES = {  # Config and HostConfig fields this decoder reads, and their JSON type
    "Image": str, "Cmd": list, "Entrypoint": list, "Env": list, "WorkingDir": str, "User": str,
    "Hostname": str, "Labels": dict, "Tty": bool, "OpenStdin": bool, "StopSignal": str,
    "StopTimeout": int, "ExposedPorts": dict, "Healthcheck": dict, "Volumes": dict, "Domainname": str,
    "Shell": list,
}
# HostConfig's smaller settings (services/containers/settings.py keeps them under these very
# names), their JSON type, and the value docker/cli sends when its flag is not given
_SETTINGS = (("CgroupnsMode", str, ""), ("UsernsMode", str, ""), ("OomKillDisable", bool, False),
             ("MemorySwappiness", int, -1), ("KernelMemory", int, 0), ("BlkioWeight", int, 0),
             ("Annotations", dict, {}), ("BlkioDeviceReadBps", list, []), ("BlkioDeviceWriteBps", list, []),
             ("BlkioDeviceReadIOps", list, []), ("BlkioDeviceWriteIOps", list, []))
_HOST_TYPES = {
    "Binds": list, "Mounts": list, "Tmpfs": dict, "NetworkMode": str, "PortBindings": dict,
    "PublishAllPorts": bool, "Dns": list, "DnsSearch": list, "DnsOptions": list, "ExtraHosts": list,
    "RestartPolicy": dict, "AutoRemove": bool, "ReadonlyRootfs": bool, "Privileged": bool,
    "CapAdd": list, "CapDrop": list, "SecurityOpt": list, "LogConfig": dict, "Memory": int,
    "MemorySwap": int, "NanoCpus": int, "CpuShares": int, "CpusetCpus": str, "PidsLimit": int,
    "Ulimits": list, "GroupAdd": list, "ShmSize": int, "PidMode": str, "IpcMode": str,
    "UTSMode": str, "Sysctls": dict, "OomScoreAdj": int, "CpuPeriod": int, "CpuQuota": int,
    "MemoryReservation": int, "Devices": list, "DeviceCgroupRules": list, "Init": bool,
    "Runtime": str, "VolumesFrom": list, **{key: kind for key, kind, _ in _SETTINGS},
}


def _typed(doc: dict, types: dict, where: str) -> None:
    for key, kind in types.items():
        check_type(doc, key, kind, where)


def create_request(body: dict, name: str | None):
    from ..services.container_types import CreateRequest
    _typed(body, _TYPES, "Config.")
    host = body.get("HostConfig") or {}
    if not isinstance(host, dict):
        raise InvalidArgument("json: cannot unmarshal HostConfig: expected an object")
    _typed(host, _HOST_TYPES, "HostConfig.")
    if not body.get("Image"):
        raise InvalidArgument("no image specified" if "Image" not in body else "invalid reference format")
    network = host.get("NetworkMode") or "default"
    network = "bridge" if network == "default" else network
    log = host.get("LogConfig") or {}
    return CreateRequest(
        image=body["Image"], name=name or None, cmd=body.get("Cmd") or None,
        entrypoint=_entrypoint(body.get("Entrypoint")), env=list(body.get("Env") or []),
        workdir=body.get("WorkingDir") or None, user=body.get("User") or None,
        hostname=body.get("Hostname") or None, labels=dict(body.get("Labels") or {}),
        tty=bool(body.get("Tty")), open_stdin=bool(body.get("OpenStdin")),
        auto_remove=bool(host.get("AutoRemove")), read_only=bool(host.get("ReadonlyRootfs")),
        mounts=_mounts(host, body.get("Volumes") or {}), tmpfs=dict(host.get("Tmpfs") or {}),
        stop_signal=body.get("StopSignal") or None, stop_timeout=body.get("StopTimeout"),
        init=bool(host.get("Init")), network=network, privileged=bool(host.get("Privileged")),
        cap_add=list(host.get("CapAdd") or []), cap_drop=list(host.get("CapDrop") or []),
        security_opt=list(host.get("SecurityOpt") or []) + _systempaths(host),
        log_opts=dict((log.get("Config") or {})), log_driver=log.get("Type") or "",
        restart=_restart(host),
        ports=_ports(host.get("PortBindings") or {}), publish_all=bool(host.get("PublishAllPorts")),
        memory=host.get("Memory") or 0, memory_swap=host.get("MemorySwap") or 0,
        cpus=(host.get("NanoCpus") or 0) / 1e9, cpu_shares=host.get("CpuShares") or 0,
        cpuset_cpus=host.get("CpusetCpus") or "", pids_limit=host.get("PidsLimit") or 0,
        ulimits=[_ulimit(u) for u in host.get("Ulimits") or []],
        runtime=host.get("Runtime") or "runc", group_add=list(host.get("GroupAdd") or []),
        shm_size=host.get("ShmSize") or 0, devices=list(host.get("Devices") or []),
        pid_mode=host.get("PidMode") or "", uts_mode=host.get("UTSMode") or "",
        ipc_mode=host.get("IpcMode") or "", sysctls=dict(host.get("Sysctls") or {}),
        oom_score_adj=host.get("OomScoreAdj") or 0, cpu_period=host.get("CpuPeriod") or 0,
        cpu_quota=host.get("CpuQuota") or 0, memory_reservation=host.get("MemoryReservation") or 0,
        device_cgroup_rules=list(host.get("DeviceCgroupRules") or []),
        domainname=body.get("Domainname") or "", settings=_settings(host), shell=_words(body, "Shell"),
        extra={"health": _health(body.get("Healthcheck")), "volumes_from": list(host.get("VolumesFrom") or []),
               "network": _network_options(body, host, network)},
    )


def _words(body: dict, key: str) -> list[str] | None:
    """A strslice field (Config.Shell) as argv words: each one a JSON string."""
    words = body.get(key) or None
    if words and not all(isinstance(w, str) for w in words):
        raise InvalidArgument(f"json: cannot unmarshal value into Go struct field Config.{key} of type string")
    return words


def _systempaths(host: dict) -> list[str]:
    """The docker CLI sends `--security-opt systempaths=unconfined` as empty MaskedPaths and
    ReadonlyPaths (null means the defaults): the option pallet's create takes for it."""
    if host.get("MaskedPaths") == [] and host.get("ReadonlyPaths") == []:
        return ["systempaths=unconfined"]
    return []


def _settings(host: dict) -> dict:
    """The settings asked for, as `pallet run`'s flags give them: unset ones left out."""
    out = {key: host[key] for key, _, unset in _SETTINGS if host.get(key) not in (None, unset)}
    if out.get("CgroupnsMode") not in (None, "host", "private"):
        raise InvalidArgument(f"invalid cgroup namespace mode: {out['CgroupnsMode']}")
    if out.get("UsernsMode") not in (None, "host"):
        raise InvalidArgument(f"invalid UsernsMode: {out['UsernsMode']}")
    for key in (k for k, *_ in _SETTINGS if k.startswith("BlkioDevice")):
        for entry in out.get(key, []):
            if not (isinstance(entry, dict) and isinstance(entry.get("Path"), str)
                    and isinstance(entry.get("Rate"), int)):
                raise InvalidArgument(f"json: cannot unmarshal HostConfig.{key}: want {{Path, Rate}}")
    return out


def _entrypoint(value):
    if value is None:
        return None
    return [] if value in ([], [""]) else list(value)


def _restart(host: dict) -> str:
    policy = host.get("RestartPolicy") or {}
    name = policy.get("Name") or "no"
    count = policy.get("MaximumRetryCount") or 0
    return f"{name}:{count}" if name == "on-failure" and count else name


def _ulimit(u) -> str:
    if not isinstance(u, dict) or not isinstance(u.get("Name"), str):
        raise InvalidArgument("json: cannot unmarshal HostConfig.Ulimits: want {Name, Soft, Hard}")
    return f"{u['Name']}={u.get('Soft', 0)}:{u.get('Hard', u.get('Soft', 0))}"


def _mounts(host: dict, volumes: dict) -> list:
    """Binds are -v specs and Mounts are --mount fields: both go through opts.mounts, the
    parser the CLI uses, so a mount is checked once, in one set of words. The docker CLI
    sends `-v /path` (no source) as a Config.Volumes key, not a bind: an anonymous volume
    there, as the same `-v` is here, unless a bind or mount already has that target."""
    from ..opts.mounts import parse_mount, parse_volume
    from ..services.container_types import MountRequest
    out = [MountRequest.from_spec(parse_volume(b), "-v") for b in host.get("Binds") or []]
    for m in host.get("Mounts") or []:
        if not isinstance(m, dict):
            raise InvalidArgument("json: cannot unmarshal HostConfig.Mounts: want objects")
        out.append(MountRequest.from_spec(parse_mount(_mount_csv(m)), "--mount"))
    taken = {m.target for m in out}
    out += [MountRequest.from_spec(parse_volume(t), "-v") for t in volumes if t not in taken]
    return out


def _mount_csv(m: dict) -> str:
    """An API Mount object as the --mount value that says the same."""
    fields = [f"type={m.get('Type') or 'volume'}"]
    if m.get("Source"):
        fields.append(f"source={m['Source']}")
    fields.append(f"target={m.get('Target') or ''}")
    if m.get("ReadOnly"):
        fields.append("readonly")
    bind = m.get("BindOptions") or {}
    if bind.get("Propagation"):
        fields.append(f"bind-propagation={bind['Propagation']}")
    vol = m.get("VolumeOptions") or {}
    if vol.get("NoCopy"):
        fields.append("volume-nocopy")
    fields += [f"volume-label={k}={v}" for k, v in (vol.get("Labels") or {}).items()]
    driver = vol.get("DriverConfig") or {}
    if driver.get("Name"):
        fields.append(f"volume-driver={driver['Name']}")
    fields += [f"volume-opt={k}={v}" for k, v in (driver.get("Options") or {}).items()]
    tmpfs = m.get("TmpfsOptions") or {}
    if tmpfs.get("SizeBytes"):
        fields.append(f"tmpfs-size={tmpfs['SizeBytes']}")
    if tmpfs.get("Mode"):
        fields.append(f"tmpfs-mode={tmpfs['Mode']:o}")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def _ports(bindings: dict) -> list:
    from ..opts.ports import PortBinding, parse_port_range, split_proto_port
    out = []
    for key, hosts in bindings.items():
        proto, port = split_proto_port(key)
        try:
            start, end = parse_port_range(port)
        except ValueError as exc:
            raise InvalidArgument(f"invalid port specification: {key!r}: {exc}") from None
        for h in hosts or [{}]:
            for p in range(start, end + 1):
                out.append(PortBinding((h or {}).get("HostIp") or "", (h or {}).get("HostPort") or "", p,
                                       proto.lower() or "tcp"))
    return out


def _health(check: dict | None) -> dict:
    if not check:
        return {"none": False, "on_failure": None}
    test = check.get("Test") or []
    out: dict = {"none": test == ["NONE"], "on_failure": None}
    if test and test != ["NONE"]:
        out["Test"] = list(test)
    for key in ("Interval", "Timeout", "StartPeriod", "Retries"):
        if check.get(key):
            out[key] = check[key]
    return out


def _network_options(body: dict, host: dict, network: str) -> dict:
    endpoints = ((body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {})
    ep = endpoints.get(network) or next(iter(endpoints.values()), None) or {}
    ipam = ep.get("IPAMConfig") or {}
    mac = ep.get("MacAddress") or body.get("MacAddress") or None  # per endpoint since API 1.44
    return {"aliases": list(ep.get("Aliases") or []), "ip": ipam.get("IPv4Address") or None,
            "ip6": ipam.get("IPv6Address") or None, "mac": mac.lower() if isinstance(mac, str) else None,
            "links": list(host.get("Links") or []),
            "dns": list(host.get("Dns") or []), "dns_search": list(host.get("DnsSearch") or []),
            "dns_options": list(host.get("DnsOptions") or []),
            "extra_hosts": list(host.get("ExtraHosts") or []),
            "expose": list((body.get("ExposedPorts") or {}).keys())}
