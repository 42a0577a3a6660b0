"""What a Compose service becomes: pallet's typed requests and docker compose's labels.

Owns the translation of one canonical service (pallet.compose.normalize) into the
CreateRequest `docker run` would build for it (the same request type the CLI and the
API build), the labels docker compose v2 sets on containers, networks and volumes,
and the extra networks a container joins after it is created. Pure: describes,
creates nothing.
"""
from __future__ import annotations

from ..errors import InvalidArgument
from .project import VERSION, Project, config_hash

P = "com.docker.compose."


def container_labels(project: Project, service: str, number: int, oneoff: bool = False) -> dict:
    svc = project.services[service]
    deps = ",".join(f"{d}:{spec.get('condition', 'service_started')}:{str(bool(spec.get('restart'))).lower()}"
                    for d, spec in sorted((svc.get("depends_on") or {}).items()))
    labels = dict(svc.get("labels") or {})
    labels.update({
        P + "project": project.name, P + "service": service, P + "container-number": str(number),
        P + "oneoff": "True" if oneoff else "False", P + "config-hash": config_hash(svc),
        P + "project.working_dir": project.working_dir,
        P + "project.config_files": ",".join(project.config_files),
        P + "depends_on": deps, P + "version": VERSION, P + "image": "",
    })
    return labels


def resource_labels(project: Project, kind: str, key: str, extra: dict | None = None) -> dict:
    return {**(extra or {}), P + kind: key, P + "project": project.name, P + "version": VERSION}


def _seconds(text, where: str) -> int | None:
    if text in (None, ""):
        return None
    from ..opts.units import parse_duration_ns
    try:
        return int(parse_duration_ns(str(text)) // 1_000_000_000)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}: {exc}") from None


def _ns(text, where: str) -> int | None:
    if text in (None, ""):
        return None
    from ..opts.units import parse_duration_ns
    try:
        return parse_duration_ns(str(text))
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}: {exc}") from None


def _bytes(value) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    from ..opts.units import parse_bytes
    return parse_bytes(str(value))


def health(svc: dict, where: str) -> dict:
    hc = svc.get("healthcheck")
    if not hc:
        return {"none": False, "on_failure": None}
    if hc.get("disable") or (hc.get("test") or [None])[0] == "NONE":
        return {"none": True, "on_failure": None}
    out: dict = {"none": False, "on_failure": None}
    if hc.get("test"):
        out["Test"] = list(hc["test"])
    for key, field in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod"),
                       ("start_interval", "StartInterval")):
        value = _ns(hc.get(key), f"{where}.healthcheck.{key}")
        if value:
            out[field] = value
    if hc.get("retries") is not None:
        out["Retries"] = int(hc["retries"])
    return out


def mounts(project: Project, svc: dict) -> tuple[list, dict]:
    """MountRequests for volumes (named volumes by their project name) and the tmpfs map."""
    from ..services.container_types import MountRequest
    out, tmpfs = [], {}
    for v in svc.get("volumes") or []:
        kind, target = v.get("type", "volume"), v["target"]
        if kind == "tmpfs":
            size = (v.get("tmpfs") or {}).get("size")
            tmpfs[target] = f"size={_bytes(size)}" if size else ""
            continue
        opts: dict = {}
        if kind == "bind":
            create = (v.get("bind") or {}).get("create_host_path", False)
            opts["flag"] = "-v" if create else "--mount"
            if (v.get("bind") or {}).get("propagation"):
                opts["propagation"] = v["bind"]["propagation"]
            source = v["source"]
        else:
            opts.update({"flag": "-v", "mode": "z", "labels": {}, "driver_opts": {}, "driver": ""})
            if (v.get("volume") or {}).get("nocopy"):
                opts["nocopy"] = True
            source = project.volume_name(v["source"]) if v.get("source") else ""
        out.append(MountRequest(kind, source, target, bool(v.get("read_only")), opts))
    for t in svc.get("tmpfs") or []:
        target, _, options = t.partition(":")
        tmpfs[target] = options
    out += _file_mounts(project, svc)
    return out, tmpfs


FILE_BASES = (("secrets", "/run/secrets/"), ("configs", "/"))


def _file_mounts(project: Project, svc: dict) -> list:
    """Secrets at /run/secrets/<target> and configs at /<target> (or the target given), bind
    mounted read-only from their files, as docker compose does without swarm (those given by
    `environment`/`content` are written in instead: see injected_files)."""
    from ..services.container_types import MountRequest
    out = []
    for kind, base in FILE_BASES:
        defined = getattr(project, kind)
        for ref in svc.get(kind) or []:
            spec = defined[ref["source"]]
            if spec.get("environment") or "content" in spec:
                continue
            if not spec.get("file"):
                raise InvalidArgument(f"{kind}.{ref['source']}: only {kind} from a file, an environment "
                                      "variable or content are supported by pallet")
            out.append(MountRequest("bind", spec["file"], _target(ref, base), True, {"flag": "--mount"}))
    return out


def _target(ref: dict, base: str) -> str:
    target = ref.get("target") or ref["source"]
    return target if target.startswith("/") else base + target


def injected_files(project: Project, svc: dict) -> list[tuple[str, bytes, int, int, int]]:
    """(path, data, mode, uid, gid) of the service's secrets and configs given by an
    environment variable or inline `content`: compose v2 copies them into the created
    container (mode 0444 unless given, owned by uid/gid, default root). An unset variable is
    an error before anything is created, in compose's words."""
    out = []
    for kind, base in FILE_BASES:
        defined = getattr(project, kind)
        for ref in svc.get(kind) or []:
            spec = defined[ref["source"]]
            if spec.get("environment"):
                value = project.values.get(f"{kind}.{ref['source']}")
                if value is None:
                    raise InvalidArgument(f'environment variable "{spec["environment"]}" required by file '
                                          f'"{spec.get("name") or ref["source"]}" is not set')
            elif "content" in spec:
                value = str(spec["content"])
            else:
                continue
            mode = ref.get("mode")
            mode = int(mode, 8) if isinstance(mode, str) else 0o444 if mode is None else int(mode)
            out.append((_target(ref, base), value.encode(), mode, int(ref.get("uid") or 0),
                        int(ref.get("gid") or 0)))
    return out


def _replaced(mounts: list, extra: list) -> list:
    """The service's mounts with `extra` (run -v, a recreate's kept volumes) in place of any at
    the same target."""
    targets = {m.target for m in extra}
    return [m for m in mounts if m.target not in targets] + list(extra)


def ports(svc: dict) -> list:
    from ..opts.ports import PortBinding
    return [PortBinding(p.get("host_ip", ""), str(p.get("published", "")), int(p["target"]),
                        p.get("protocol", "tcp")) for p in svc.get("ports") or []]


def networks(project: Project, service: str) -> list[tuple[str, dict]]:
    """(network name, {aliases, ip}) in priority order; the first is the container's primary."""
    svc = project.services[service]
    nets = svc.get("networks") or {}
    ordered = sorted(nets.items(), key=lambda kv: (-int((kv[1] or {}).get("priority", 0)), kv[0]))
    out = []
    for key, spec in ordered:
        spec = spec or {}
        out.append((project.network_name(key), {"aliases": [service, *(spec.get("aliases") or [])],
                                                "ip": spec.get("ipv4_address")}))
    return out


def network_mode(project: Project, service: str, container_of) -> str:
    mode = project.services[service].get("network_mode")
    if not mode:
        nets = networks(project, service)
        return nets[0][0] if nets else "none"
    if mode.startswith("service:"):
        return "container:" + container_of(mode[8:])
    return mode


def create_request(project: Project, service: str, number: int, *, container_of=lambda s: s,
                   oneoff: bool = False, name: str | None = None, overrides: dict | None = None):
    """The CreateRequest for replica `number` of `service` (`overrides`: `run`'s flags)."""
    from ..services.container_types import CreateRequest
    svc = project.services[service]
    where = f"services.{service}"
    o = overrides or {}
    env = {**(svc.get("environment") or {}), **o.get("env", {})}
    mount_reqs, tmpfs = mounts(project, svc)
    limits = ((svc.get("deploy") or {}).get("resources") or {})
    mode = network_mode(project, service, container_of)
    nets = networks(project, service) if not svc.get("network_mode") else []
    primary = nets[0][1] if nets else {"aliases": [], "ip": None}
    ulimits = []
    for key, value in (svc.get("ulimits") or {}).items():
        ulimits.append(f"{key}={value['soft']}:{value['hard']}" if isinstance(value, dict) else f"{key}={value}")
    from ..opts.ports import parse_expose
    logging = svc.get("logging") or {}
    return CreateRequest(
        image=project.image_name(service), name=name or project.container_name(service, number),
        cmd=o.get("cmd", svc.get("command")), entrypoint=o.get("entrypoint", svc.get("entrypoint")),
        env=[f"{k}={v}" for k, v in env.items() if v is not None],
        workdir=o.get("workdir", svc.get("working_dir")), user=o.get("user", svc.get("user")),
        hostname=svc.get("hostname"),
        labels={**container_labels(project, service, number, oneoff), **o.get("labels", {})},
        tty=o.get("tty", bool(svc.get("tty"))), open_stdin=o.get("stdin_open", bool(svc.get("stdin_open"))),
        auto_remove=bool(o.get("rm")), read_only=bool(svc.get("read_only")),
        mounts=_replaced(mount_reqs, o.get("mounts", [])), tmpfs=tmpfs, stop_signal=svc.get("stop_signal"),
        stop_timeout=_seconds(svc.get("stop_grace_period"), f"{where}.stop_grace_period"),
        init=bool(svc.get("init")), network=mode, privileged=bool(svc.get("privileged")),
        cap_add=list(svc.get("cap_add") or []), cap_drop=list(svc.get("cap_drop") or []),
        security_opt=list(svc.get("security_opt") or []), log_opts=dict(logging.get("options") or {}),
        restart="no" if oneoff else str(svc.get("restart") or "no"),
        ports=o.get("ports", ports(svc)),
        memory=_bytes(svc.get("mem_limit") or (limits.get("limits") or {}).get("memory")),
        memory_reservation=_bytes(svc.get("mem_reservation") or (limits.get("reservations") or {}).get("memory")),
        cpus=float(svc.get("cpus") or (limits.get("limits") or {}).get("cpus") or 0),
        cpu_shares=int(svc.get("cpu_shares") or 0), cpuset_cpus=str(svc.get("cpuset") or ""),
        pids_limit=int(svc.get("pids_limit") or (limits.get("limits") or {}).get("pids") or 0),
        ulimits=ulimits, group_add=[str(g) for g in svc.get("group_add") or []],
        shm_size=_bytes(svc.get("shm_size")), sysctls=dict(svc.get("sysctls") or {}),
        oom_score_adj=int(svc.get("oom_score_adj") or 0),
        pid_mode=svc.get("pid") or "", ipc_mode=svc.get("ipc") or "", uts_mode=svc.get("uts") or "",
        extra={"health": health(svc, where), "volumes_from": [],
               "network": {"aliases": primary["aliases"], "ip": primary["ip"],
                           "dns": list(svc.get("dns") or []), "dns_search": list(svc.get("dns_search") or []),
                           "dns_options": list(svc.get("dns_opt") or []),
                           "extra_hosts": list(svc.get("extra_hosts") or []),
                           "expose": [k for e in svc.get("expose") or [] for k in parse_expose(e)]}},
    )
