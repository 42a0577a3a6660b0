"""What a test's private store may leave behind once it is reset: nothing."""
from __future__ import annotations

import subprocess
from pathlib import Path


def assert_store_reset_leaves_nothing(pallet, container_ids: list[str]) -> None:
    """`system reset` ends the store: none of its bridges, nft table or namespaces, and no
    cgroup of its containers, may outlive it."""
    from pallet.network import model
    pallet.ok("system", "reset", "-f")
    key = model.store_key(str(pallet.runroot))
    prefix = model.bridge_name(key, 0)[:-1]
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout.split()
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout.split()
    cgroups = [str(d) for cid in container_ids for d in Path("/sys/fs/cgroup").glob(f"*/pallet/{cid}")]
    left = {"bridges": [w for w in links if w.startswith(prefix)],
            "nft tables": [t for t in tables if t == model.table_name(key)],
            "cgroups": cgroups, "store": [str(d) for d in (pallet.root, pallet.runroot) if d.exists()]}
    assert not any(left.values()), f"left behind after system reset: {left}"
