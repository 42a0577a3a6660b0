"""Merging Compose files: each `-f` (or `compose.override.yaml`) over the ones before it.

Owns the spec's merge rules (13-merge.md, as compose-go applies them) on canonical
trees (pallet.compose.normalize): mappings merge key by key, recursively; scalars
and `command`, `entrypoint`, `healthcheck.test` are replaced; `ports` are unioned;
`volumes` are merged by container target, `secrets`/`configs` by source; `dns`,
`cap_add`, `expose` & co. are appended without duplicates; `environment`, `labels`,
`depends_on`, `networks` merge by key. Pure: returns new trees.
"""
from __future__ import annotations

_REPLACED = ("command", "entrypoint")
_UNIQUE_LISTS = ("dns", "dns_search", "dns_opt", "tmpfs", "cap_add", "cap_drop", "expose", "security_opt",
                 "devices", "group_add", "extra_hosts", "ports", "profiles", "env_file", "external_links",
                 "links")
_KEYED_LISTS = {"volumes": "target", "secrets": "source", "configs": "source"}


def merge_files(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if key == "services":
            services = dict(base.get("services") or {})
            for name, svc in (value or {}).items():
                services[name] = merge_service(services[name], svc) if name in services else svc
            out["services"] = services
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep(out[key], value)
        else:
            out[key] = value
    return out


def merge_service(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        old = out.get(key)
        if key in _REPLACED or old is None:
            out[key] = value
        elif key == "healthcheck" and isinstance(old, dict):
            out[key] = {**old, **value}
        elif key in _UNIQUE_LISTS and isinstance(old, list):
            out[key] = old + [v for v in value if v not in old]
        elif key in _KEYED_LISTS and isinstance(old, list):
            out[key] = _keyed(old, value, _KEYED_LISTS[key])
        elif isinstance(old, dict) and isinstance(value, dict):
            out[key] = _deep(old, value)
        else:
            out[key] = value
    return out


def _keyed(old: list, new: list, field: str) -> list:
    out = {item.get(field, id(item)): item for item in old}
    for item in new:
        out[item.get(field, id(item))] = item
    return list(out.values())


def _deep(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _deep(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out
