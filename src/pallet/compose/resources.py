"""A project's networks and volumes: made before its containers, removed by `down`.

Owns docker compose's rules: a network or volume the project declares is created
with the project's labels when missing (`Network p_default  Created`,
`Volume "p_data"  Created`); an `external` one must already exist; `down` removes
the networks the project made, and with `-v` its named volumes (never external
ones). Drives the network and volume services through their public methods.
"""
from __future__ import annotations

from ..errors import NotFound
from .plan import resource_labels


def used_networks(project, services: list[str]) -> list[str]:
    keys = []
    for s in services:
        for key in project.services[s].get("networks") or {}:
            if key not in keys:
                keys.append(key)
    return keys


def used_volumes(project, services: list[str]) -> list[str]:
    keys = []
    for s in services:
        for v in project.services[s].get("volumes") or []:
            if v.get("type", "volume") == "volume" and v.get("source") and v["source"] not in keys:
                keys.append(v["source"])
    return keys


def ensure_networks(engine, project, keys: list[str], event) -> None:
    nets = engine.networks
    for key in keys:
        spec = project.networks[key]
        name = spec["name"]
        if nets.exists(name):
            continue
        if spec.get("external"):
            raise NotFound(f"network {name} declared as external, but could not be found")
        event(f"Network {name}", "Creating")
        ipam = (spec.get("ipam") or {}).get("config") or [{}]
        from ..services.network_types import NetworkCreateRequest
        subnets = [c["subnet"] for c in ipam if c.get("subnet")]
        gateways = [c["gateway"] for c in ipam if c.get("gateway")]
        nets.create(NetworkCreateRequest(name, spec.get("driver") or "bridge", subnets, gateways,
                                         bool(spec.get("internal")),
                                         resource_labels(project, "network", key, spec.get("labels"))))
        event(f"Network {name}", "Created")


def ensure_volumes(engine, project, keys: list[str], event) -> None:
    vols = engine.volumes
    for key in keys:
        spec = project.volumes[key]
        name = spec["name"]
        try:
            vols.get(name)
            continue
        except NotFound:
            pass
        if spec.get("external"):
            raise NotFound(f'external volume "{name}" not found')
        event(f'Volume "{name}"', "Creating")
        vols.create(name, spec.get("driver") or "local",
                    labels=resource_labels(project, "volume", key, spec.get("labels")),
                    options=spec.get("driver_opts"))
        event(f'Volume "{name}"', "Created")


def remove_networks(engine, project, event) -> int:
    owned = [spec for spec in project.networks.values() if not spec.get("external")]
    if not owned:
        return 0  # (the network service and its modules are not even loaded)
    nets = engine.networks
    removed = 0
    for spec in owned:
        if not nets.exists(spec["name"]):
            continue
        event(f"Network {spec['name']}", "Removing")
        nets.remove(spec["name"])
        event(f"Network {spec['name']}", "Removed")
        removed += 1
    return removed


def remove_volumes(engine, project, event) -> int:
    vols = engine.volumes
    removed = 0
    for key, spec in project.volumes.items():
        if spec.get("external"):
            continue
        try:
            vols.get(spec["name"])
        except NotFound:
            continue
        event(f'Volume {spec["name"]}', "Removing")
        vols.remove(spec["name"])
        event(f'Volume {spec["name"]}', "Removed")
        removed += 1
    return removed
