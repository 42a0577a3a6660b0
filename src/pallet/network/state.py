"""Where networking state lives, and the lock that serialises changes to it.

    root/networks/<name>.json          network documents (persistent, like podman's)
    runroot/network/lock               flock: every attach/detach/create/rm of this store
    runroot/network/endpoints/<cid>    one container's attachments and ports (volatile)
    runroot/network/netns/<cid>        its network namespace (a bind mount; unmounting frees it)
    runroot/network/aardvark-dns/      aardvark-dns config (one file per DNS network) and pid

Endpoint files are the truth for IPAM and port reservations: an address or a
host port is taken while some endpoint file names it. Writes are atomic
(write + rename). Imports only the stdlib.
"""
from __future__ import annotations

import os
from pathlib import Path

from .. import jsontext


class NetworkState:
    def __init__(self, root: Path, runroot: Path):
        self.networks_dir = Path(root) / "networks"
        self.run_dir = Path(runroot) / "network"
        self.endpoints_dir = self.run_dir / "endpoints"
        self.dns_dir = self.run_dir / "aardvark-dns"

    def locked(self):
        """`with state.locked():` this store's networking lock (a flock). Not a
        @contextmanager: contextlib would cost every `run` (its exit path reads here) ~0.4 ms."""
        from ..store.locks import flocked
        self.run_dir.mkdir(parents=True, exist_ok=True)
        return flocked(self.run_dir / "lock")

    # ---- networks ----
    def networks(self) -> list[dict]:
        if not self.networks_dir.exists():
            return []
        out = []
        for f in sorted(self.networks_dir.glob("*.json")):
            try:
                out.append(jsontext.loads(f.read_text()))
            except (OSError, ValueError):
                continue
        return out

    def network(self, name: str) -> dict | None:
        f = self.networks_dir / f"{name}.json"
        try:
            return jsontext.loads(f.read_text())
        except (OSError, ValueError):
            return None

    def save_network(self, net: dict) -> None:
        self.networks_dir.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.networks_dir / f"{net['Name']}.json", net)

    def delete_network(self, name: str) -> None:
        (self.networks_dir / f"{name}.json").unlink(missing_ok=True)

    # ---- endpoints ----
    def endpoint_file(self, cid: str) -> Path:
        return self.endpoints_dir / cid

    def sandbox(self, cid: str) -> dict | None:
        try:
            return jsontext.loads(self.endpoint_file(cid).read_text())
        except (OSError, ValueError):
            return None

    def sandboxes(self) -> list[dict]:
        if not self.endpoints_dir.exists():
            return []
        out = []
        for f in self.endpoints_dir.iterdir():
            if f.name.startswith("."):
                continue
            try:
                out.append(jsontext.loads(f.read_text()))
            except (OSError, ValueError):
                continue
        return out

    def save_sandbox(self, sandbox: dict) -> None:
        self.endpoints_dir.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.endpoint_file(sandbox["cid"]), sandbox)

    def delete_sandbox(self, cid: str) -> None:
        self.endpoint_file(cid).unlink(missing_ok=True)


def _write_atomic(path: Path, doc: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(jsontext.dumps(doc))
    os.replace(tmp, path)
