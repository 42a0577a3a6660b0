"""The container service: Docker's container use cases, one module per concern.

    service.py      ContainerService: create, start, stop, kill, wait, rm, rename, the entry points
    hooks.py        the lifecycle's one seam (create/prepare/start/stop/exit/remove) and its plug-ins
    state.py        State transitions and the live facts (exit file, monitor) folded in
    config.py       a CreateRequest -> the record, and the record -> the OCI bundle
    queries.py      read-only views (list, ports, inspect, counts, image users)
    listing.py      `ps` filters
    streams.py      exec, logs, attach
    ops.py          top, stats, update, prune
    stop.py         stop of many containers at once
    limits.py       resources, ulimits, healthcheck config
    settings.py     the smaller HostConfig settings (--cgroupns, --blkio-weight, ...) and their warnings
    network.py      networking for a container (record at create, attach at start, detach at exit)
    health.py, restart.py, log_rotation.py, names.py, commit.py: what their names say

Records live in pallet.store.containers (the SQL); request types in
pallet.services.container_types (the edges import those, never this package).
"""
