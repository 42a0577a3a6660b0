"""A CreateRequest as `POST /containers/create`'s body: the inverse of pallet.api.create_body,
which decodes that body back into the same CreateRequest. docker/cli writes this body from
its flags; pallet's CLI has already decoded its flags into the request, so this module only
spells each field under its Config / HostConfig / NetworkingConfig name.
"""
from __future__ import annotations


def create_body(req) -> dict:
    net = req.extra.get("network") or {}
    config = _drop_empty({
        "Image": req.image, "Cmd": req.cmd, "Entrypoint": [""] if req.entrypoint == [] else req.entrypoint,
        "Env": req.env, "WorkingDir": req.workdir, "User": req.user, "Hostname": req.hostname,
        "Domainname": req.domainname, "Labels": req.labels, "StopSignal": req.stop_signal,
        "StopTimeout": req.stop_timeout, "Healthcheck": _health(req.extra.get("health") or {}),
        "Shell": req.shell,
        "ExposedPorts": {**{k: {} for k in net.get("expose") or []},
                         **{p.key: {} for p in req.ports}},
    })
    config.update(Tty=req.tty, OpenStdin=req.open_stdin, StdinOnce=req.open_stdin,
                  AttachStdin=req.open_stdin, AttachStdout=True, AttachStderr=True)
    host = _drop_empty({
        "Binds": [_bind(m) for m in req.mounts if m.options.get("flag") == "-v"],
        "Mounts": [_mount(m) for m in req.mounts if m.options.get("flag") != "-v"],
        "Tmpfs": req.tmpfs, "NetworkMode": req.network, "PortBindings": _port_bindings(req.ports),
        "PublishAllPorts": req.publish_all, "Dns": net.get("dns"), "DnsSearch": net.get("dns_search"),
        "DnsOptions": net.get("dns_options"), "ExtraHosts": net.get("extra_hosts"),
        "Links": net.get("links"), "RestartPolicy": _restart(req.restart), "AutoRemove": req.auto_remove,
        "ReadonlyRootfs": req.read_only, "Privileged": req.privileged, "CapAdd": req.cap_add,
        "CapDrop": req.cap_drop, "SecurityOpt": req.security_opt,
        "LogConfig": {"Type": req.log_driver, "Config": req.log_opts} if req.log_driver or req.log_opts else None,
        "Memory": req.memory, "MemorySwap": req.memory_swap, "NanoCpus": int(req.cpus * 1e9),
        "CpuShares": req.cpu_shares, "CpusetCpus": req.cpuset_cpus, "PidsLimit": req.pids_limit,
        "Ulimits": [_ulimit(u) for u in req.ulimits], "GroupAdd": req.group_add, "ShmSize": req.shm_size,
        "PidMode": req.pid_mode, "IpcMode": req.ipc_mode, "UTSMode": req.uts_mode, "Sysctls": req.sysctls,
        "OomScoreAdj": req.oom_score_adj, "CpuPeriod": req.cpu_period, "CpuQuota": req.cpu_quota,
        "MemoryReservation": req.memory_reservation, "Devices": req.devices,
        "DeviceCgroupRules": req.device_cgroup_rules, "Init": req.init or None,
        "Runtime": req.runtime if req.runtime != "runc" else None,
        "VolumesFrom": req.extra.get("volumes_from"),
    }) | req.settings  # as given: a swappiness of 0 is a setting, not an absent one
    body = {**config, "HostConfig": host}
    endpoint = _drop_empty({"Aliases": net.get("aliases"), "MacAddress": net.get("mac"),
                            "IPAMConfig": _drop_empty({"IPv4Address": net.get("ip"),
                                                       "IPv6Address": net.get("ip6")}) or None})
    if endpoint:
        body["NetworkingConfig"] = {"EndpointsConfig": {req.network: endpoint}}
    return body


def _drop_empty(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if v not in (None, "", [], {}, 0, False)}


def _health(health: dict) -> dict | None:
    if health.get("none"):
        return {"Test": ["NONE"]}
    check = {k: health[k] for k in ("Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries")
             if health.get(k) is not None}
    return check or None


def _bind(m) -> str:
    """A -v mount as docker/cli sends it in Binds: SOURCE:TARGET[:options]."""
    options = [o for o in ("ro" if m.read_only else "", m.options.get("propagation") or "",
                           "nocopy" if m.options.get("nocopy") else "") if o]
    spec = f"{m.source}:{m.target}" if m.source else m.target
    return spec + (":" + ",".join(options) if options else "")


def _mount(m) -> dict:
    out = {"Type": m.type, "Source": m.source, "Target": m.target, "ReadOnly": m.read_only}
    o = m.options
    if m.type == "bind" and o.get("propagation"):
        out["BindOptions"] = {"Propagation": o["propagation"]}
    if m.type == "volume":
        vol = _drop_empty({"NoCopy": o.get("nocopy"), "Labels": o.get("labels"),
                           "DriverConfig": _drop_empty({"Name": o.get("driver"), "Options": o.get("driver_opts")})})
        if vol:
            out["VolumeOptions"] = vol
    if m.type == "tmpfs":
        tmpfs = _drop_empty({"SizeBytes": o.get("size"), "Mode": o.get("mode")})
        if tmpfs:
            out["TmpfsOptions"] = tmpfs
    return out


def _port_bindings(ports) -> dict:
    out: dict = {}
    for p in ports:
        out.setdefault(p.key, []).append({"HostIp": p.host_ip, "HostPort": p.host_port})
    return out


def _restart(policy: str) -> dict | None:
    if policy in ("", "no"):
        return None
    name, _, count = policy.partition(":")
    return {"Name": name, "MaximumRetryCount": int(count or 0)}


def _ulimit(text: str) -> dict:
    name, _, limits = text.partition("=")
    soft, _, hard = limits.partition(":")
    return {"Name": name, "Soft": int(soft), "Hard": int(hard or soft)}
