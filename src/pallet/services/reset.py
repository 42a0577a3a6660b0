"""`system reset` (as podman has it): a store back to nothing, and nothing of it left in
the kernel: containers (force-removed, so their mounts, monitors and cgroups go), the
store's bridges, namespaces, nft table and resolver, then the root and runroot trees.

Tests and benchmarks end every private store with it; bridges otherwise outlive their
last container, as docker0 does.
"""
from __future__ import annotations

import os


def reset(system) -> None:
    from ..errors import NotFound
    svc = system.containers
    for record in svc.store.all():
        try:
            svc.remove(record["Id"], force=True, volumes=True)
        except NotFound:
            continue
    system.networks.reset()
    system.db.close()
    from ..store.layers import force_rmtree
    for tree in (system.paths.root, system.paths.runroot):
        if os.path.isdir(tree):
            force_rmtree(tree)
