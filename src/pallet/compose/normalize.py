"""Canonical forms of one Compose file's services (what `config` prints and `merge` merges).

Owns the short-to-long conversions compose-go makes as it loads each file:
ports (`"127.0.0.1:8080:80/udp"` -> `{target, published, host_ip, protocol, mode}`,
one entry per port of a range), volumes (`"data:/srv:ro"`, `"./src:/app"` -> `{type,
source, target, read_only}` with host paths made absolute against the project
directory), environment/labels/sysctls lists -> mappings, depends_on lists ->
`{condition: service_started, required: true, restart: false}`, networks lists ->
mappings, a build string -> `{context, dockerfile}`, string commands -> argv
(shell words), strings where the schema allows "integer or string" -> numbers,
`develop.watch` paths made absolute.
Errors are InvalidArgument naming the path. Pure.
"""
from __future__ import annotations

import os


from ..errors import InvalidArgument

_LISTS = ("dns", "dns_search", "dns_opt", "tmpfs", "cap_add", "cap_drop", "expose", "security_opt",
          "profiles", "devices", "group_add")
_INTS = ("scale", "mem_swappiness", "oom_score_adj", "pids_limit", "cpu_shares", "cpu_period", "cpu_quota")
_BOOLS = ("privileged", "read_only", "init", "tty", "stdin_open")


def service(name: str, svc: dict, workdir: str) -> dict:
    """One service of one file, in canonical form."""
    out = dict(svc)
    where = f"services.{name}"
    for key in ("environment", "labels", "sysctls", "annotations"):
        if key in out:
            out[key] = mapping(out[key], f"{where}.{key}")
    if "extra_hosts" in out:
        out["extra_hosts"] = _extra_hosts(out["extra_hosts"])
    for key in ("command", "entrypoint"):
        if isinstance(out.get(key), str):
            out[key] = _words(out[key], f"{where}.{key}")
    for key in _LISTS:
        if isinstance(out.get(key), (str, int)):
            out[key] = [str(out[key])]
    if "expose" in out:
        out["expose"] = [str(e) for e in out["expose"]]
    for key in _INTS:
        if key in out:
            out[key] = _int(out[key], f"{where}.{key}")
    for key in _BOOLS:
        if key in out:
            out[key] = _bool(out[key], f"{where}.{key}")
    if "ports" in out:
        out["ports"] = [p for i, raw in enumerate(out["ports"]) for p in port(raw, f"{where}.ports[{i}]")]
    if "volumes" in out:
        out["volumes"] = [volume(v, workdir, f"{where}.volumes[{i}]") for i, v in enumerate(out["volumes"])]
    if "depends_on" in out:
        out["depends_on"] = _depends_on(out["depends_on"])
    if isinstance(out.get("networks"), list):
        out["networks"] = {n: None for n in out["networks"]}
    if "build" in out:
        out["build"] = _build(out["build"], workdir, f"{where}.build")
    if "healthcheck" in out:
        out["healthcheck"] = _healthcheck(out["healthcheck"])
    if isinstance(out.get("develop"), dict) and out["develop"].get("watch"):
        out["develop"] = {**out["develop"], "watch": [_trigger(t, workdir) for t in out["develop"]["watch"]]}
    if "env_file" in out:
        out["env_file"] = _env_files(out["env_file"], workdir)
    if "deploy" in out and isinstance(out["deploy"], dict) and "replicas" in out["deploy"]:
        out["deploy"] = {**out["deploy"], "replicas": _int(out["deploy"]["replicas"], f"{where}.deploy.replicas")}
    for key in ("secrets", "configs"):
        if key in out:
            out[key] = [{"source": s} if isinstance(s, str) else dict(s) for s in out[key]]
    if "ulimits" in out:
        out["ulimits"] = {k: _int(v, f"{where}.ulimits.{k}") if not isinstance(v, dict) else v
                          for k, v in out["ulimits"].items()}
    return out


def mapping(value, where: str) -> dict:
    """A list of `K=V` (or bare `K`) or a mapping -> {K: V-or-None}, values as strings."""
    if isinstance(value, dict):
        return {str(k): _scalar(v) for k, v in value.items()}
    out = {}
    for item in value or []:
        key, eq, val = str(item).partition("=")
        out[key] = val if eq else None
    return out


def _scalar(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _extra_hosts(value) -> list[str]:
    if isinstance(value, dict):
        items = []
        for host, ips in value.items():
            items += [f"{host}:{ip}" for ip in (ips if isinstance(ips, list) else [ips])]
        return items
    return [h.replace("=", ":", 1) if "=" in h else h for h in value]


def _words(text: str, where: str) -> list[str]:
    try:
        import shlex  # only for a command written as a string
        return shlex.split(text)
    except ValueError as exc:
        raise InvalidArgument(f"{where}: {exc}") from None


def _int(value, where: str) -> int:
    if isinstance(value, bool):
        raise InvalidArgument(f"{where} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{where} must be an integer: {value!r}") from None


def _bool(value, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "yes", "y", "on", "1"):
        return True
    if text in ("false", "no", "n", "off", "0"):
        return False
    raise InvalidArgument(f"{where} must be a boolean: {value!r}")


def port(raw, where: str) -> list[dict]:
    if isinstance(raw, dict):
        entry = {"target": _int(raw["target"], f"{where}.target"), "protocol": raw.get("protocol", "tcp"),
                 "mode": raw.get("mode", "ingress")}
        if raw.get("published") not in (None, ""):
            entry["published"] = str(raw["published"])
        if raw.get("host_ip"):
            entry["host_ip"] = raw["host_ip"]
        if raw.get("name"):
            entry["name"] = raw["name"]
        return [entry]
    from ..opts.ports import parse_publish
    from ..errors import UsageError
    try:
        bindings = parse_publish(str(raw))
    except UsageError as exc:
        raise InvalidArgument(f"{where}: invalid port {raw!r}: {exc}") from None
    out = []
    for b in bindings:
        entry = {"mode": "ingress", "target": b.container_port, "protocol": b.proto}
        if b.host_port:
            entry["published"] = b.host_port
        if b.host_ip:
            entry["host_ip"] = b.host_ip
        out.append(entry)
    return out


def volume(raw, workdir: str, where: str) -> dict:
    if isinstance(raw, dict):
        entry = dict(raw)
        if entry.get("type") == "bind" and entry.get("source"):
            entry["source"] = host_path(entry["source"], workdir)
        if "read_only" in entry:
            entry["read_only"] = _bool(entry["read_only"], f"{where}.read_only")
        return entry
    parts = _split_volume(str(raw))
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0]}
    if len(parts) > 3:
        raise InvalidArgument(f"{where}: invalid volume specification: {raw!r}")
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    if not target.startswith("/"):
        raise InvalidArgument(f"{where}: invalid volume specification: {raw!r}: "
                              "the container path must be absolute")
    entry: dict = {"type": "volume", "source": source, "target": target}
    if source.startswith((".", "/", "~")):
        entry = {"type": "bind", "source": host_path(source, workdir), "target": target,
                 "bind": {"create_host_path": True}}
    options = mode.split(",") if mode else []
    if "ro" in options:
        entry["read_only"] = True
    if "nocopy" in options:
        entry["volume"] = {"nocopy": True}
    for opt in options:
        if opt in ("shared", "rshared", "slave", "rslave", "private", "rprivate"):
            entry.setdefault("bind", {})["propagation"] = opt
    return entry


def _split_volume(spec: str) -> list[str]:
    return [p for p in spec.split(":")] if spec else [spec]


def host_path(path: str, workdir: str) -> str:
    path = os.path.expanduser(path)
    return os.path.normpath(os.path.join(workdir, path))


def _depends_on(value) -> dict:
    if isinstance(value, list):
        return {name: {"condition": "service_started", "required": True, "restart": False} for name in value}
    out = {}
    for name, spec in value.items():
        spec = dict(spec or {})
        out[name] = {"condition": spec.get("condition", "service_started"),
                     "required": _bool(spec.get("required", True), f"depends_on.{name}.required"),
                     "restart": _bool(spec.get("restart", False), f"depends_on.{name}.restart")}
    return out


def _build(value, workdir: str, where: str) -> dict:
    spec = {"context": value} if isinstance(value, str) else dict(value)
    context = spec.get("context", ".")
    if "://" not in context and not context.startswith("git@"):
        spec["context"] = host_path(context, workdir)
    if "dockerfile_inline" in spec:
        if "dockerfile" in spec:  # compose-go's validation refuses the pair
            raise InvalidArgument(f"{where}: dockerfile and dockerfile_inline are mutually exclusive")
    else:
        spec.setdefault("dockerfile", "Dockerfile")
    if "args" in spec:
        spec["args"] = mapping(spec["args"], f"{where}.args")
    if "labels" in spec:
        spec["labels"] = mapping(spec["labels"], f"{where}.labels")
    return spec


def _trigger(value: dict, workdir: str) -> dict:
    """A `develop.watch` rule: its path absolute, ignore and include as lists."""
    out = dict(value)
    if isinstance(out.get("path"), str):
        out["path"] = host_path(out["path"], workdir)
    for key in ("ignore", "include"):
        if isinstance(out.get(key), str):
            out[key] = [out[key]]
    if isinstance(out.get("exec"), dict):  # sync+exec's hook, as post_start's
        hook = dict(out["exec"])
        if isinstance(hook.get("command"), str):
            hook["command"] = _words(hook["command"], "develop.watch.exec.command")
        if "environment" in hook:
            hook["environment"] = mapping(hook["environment"], "develop.watch.exec.environment")
        out["exec"] = hook
    return out


def _healthcheck(value: dict) -> dict:
    out = dict(value)
    if isinstance(out.get("test"), str):
        out["test"] = ["CMD-SHELL", out["test"]]
    if "retries" in out:
        out["retries"] = _int(out["retries"], "healthcheck.retries")
    return out


def _env_files(value, workdir: str) -> list[dict]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        entry = {"path": item, "required": True} if isinstance(item, str) else dict(item)
        entry["path"] = host_path(entry["path"], workdir)
        entry.setdefault("required", True)
        out.append(entry)
    return out
