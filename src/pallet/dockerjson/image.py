"""Docker's JSON shapes for images: `image inspect` and `history`.

Shared by the CLI and (later) the API, so both agree by construction.
"""
from __future__ import annotations

from ..oci import image as oci

# Docker's ContainerConfig-shaped "Config" of image inspect, in its field order.
_CONFIG_DEFAULTS = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "ExposedPorts": None, "Tty": False, "OpenStdin": False,
    "StdinOnce": False, "Env": None, "Cmd": None, "Healthcheck": None, "ArgsEscaped": None,
    "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None, "OnBuild": None,
    "Labels": None, "StopSignal": None, "Shell": None,
}


def docker_config(cfg: dict) -> dict:
    out = {}
    for key, default in _CONFIG_DEFAULTS.items():
        if key in cfg:
            out[key] = cfg[key]
        elif default is not None or key not in ("Healthcheck", "ArgsEscaped", "StopSignal", "Shell"):
            out[key] = default
    return out


def inspect_image(svc, image_id: str) -> dict:
    config = svc.config(image_id)
    row = svc.db.image(image_id)
    cfg = config.get("config") or {}
    doc = {
        "Id": image_id,
        "RepoTags": svc.repo_tags(image_id),
        "RepoDigests": svc.repo_digests(image_id),
        "Parent": row.parent or "",
        "Comment": _comment(config),
        "Created": config.get("created") or "",
        "DockerVersion": config.get("docker_version", ""),
        "Author": config.get("author", ""),
        "Config": _typed(docker_config(cfg)),
        "Architecture": config.get("architecture", ""),
        "Os": config.get("os", ""),
        "Size": row.size,
        "GraphDriver": {"Data": _graph_data(svc, image_id), "Name": "overlay"},
        "RootFS": {"Type": "layers", "Layers": oci.diff_ids(config)},
        "Metadata": {"LastTagTime": oci.rfc3339_ts(row.loaded)},
    }
    if config.get("variant"):
        doc["Variant"] = config["variant"]
    return doc


def _comment(config: dict) -> str:
    history = config.get("history") or []
    return (history[-1].get("comment") or "") if history else ""


def _graph_data(svc, image_id: str) -> dict:
    dirs = [str(d) for d in svc.layer_dirs(image_id)]
    if not dirs:
        return {}
    data = {"UpperDir": dirs[-1]}
    if len(dirs) > 1:
        data["LowerDir"] = ":".join(reversed(dirs[:-1]))
    return data


def image_history(svc, image_id: str) -> list[dict]:
    """Newest first, each history entry paired with the layer it made (Docker's pairing)."""
    config = svc.config(image_id)
    chain = svc.db.image_chain(image_id)
    sizes = [svc.db.layer(c).size for c in chain]
    entries = config.get("history") or [{"created": config.get("created", "")} for _ in chain]
    out = []
    layer_index = 0
    for h in entries:
        size = 0
        if not h.get("empty_layer") and layer_index < len(sizes):
            size = sizes[layer_index]
            layer_index += 1
        out.append({"ID": "<missing>", "Created": h.get("created", ""),
                    "CreatedBy": h.get("created_by", ""), "Size": size,
                    "Comment": h.get("comment", ""), "Tags": None})
    out.reverse()
    if out:
        out[0]["ID"] = image_id
        out[0]["Tags"] = svc.repo_tags(image_id) or None
    return out


def _typed(config: dict) -> dict:
    from .container import typed_healthcheck
    return typed_healthcheck(config)
