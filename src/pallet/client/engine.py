"""`RemoteEngine`: the Engine's face over the Engine API. Each noun is built on first use;
a noun no remote verb needs is refused in one line, never looked for locally."""
from __future__ import annotations

from ..errors import PalletError

NOUNS = {
    "containers": ("containers", "RemoteContainers"), "images": ("images", "RemoteImages"),
    "registry": ("images", "RemoteRegistry"), "networks": ("networks", "RemoteNetworks"),
    "volumes": ("volumes", "RemoteVolumes"), "system": ("system", "RemoteSystem"),
    "builds": ("builds", "RemoteBuilds"), "container_fs": ("container_fs", "RemoteContainerFS"),
}


class RemoteUnsupported(PalletError):
    """What pallet's CLI cannot yet do through the Engine API."""


class RemoteEngine:
    paths = None  # no local store behind it

    def __init__(self, transport, context: str):
        self.transport, self.context = transport, context
        self._nouns: dict[str, object] = {}

    @property
    def host(self) -> str:
        return self.transport.host

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in NOUNS:
            raise RemoteUnsupported(f"{name} are not supported through context {self.context!r} "
                                    f"({self.transport.host}) by pallet's CLI")
        if name not in self._nouns:
            module, cls = NOUNS[name]
            __import__(f"pallet.client.{module}")
            import sys
            self._nouns[name] = getattr(sys.modules[f"pallet.client.{module}"], cls)(self.transport)
        return self._nouns[name]
