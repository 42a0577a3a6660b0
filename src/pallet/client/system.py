"""`version` and `info` over the Engine API, in the shapes the local SystemService returns
(the CLI prints the same lines; what a remote engine does not report reads as "N/A")."""
from __future__ import annotations


class RemoteSystem:
    def __init__(self, transport):
        self.t = transport

    def version(self) -> dict:
        import platform
        from .. import __version__
        doc = self.t.call("GET", "/version") or {}
        engine = (doc.get("Platform") or {}).get("Name") or "Docker Engine"
        return {"Client": {"Version": __version__, "Os": "linux", "Arch": platform.machine(),
                           "PythonVersion": platform.python_version()},
                "Server": {**doc, "Runtime": f"{engine} {doc.get('Version', '')} (API {doc.get('ApiVersion', '')}) "
                                             f"at {self.t.host}",
                           "Monitor": "N/A (a remote engine's own)"}}

    def info(self) -> dict:
        doc = self.t.call("GET", "/info") or {}
        for key in ("Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped", "Images"):
            doc.setdefault(key, 0)
        for key in ("Layers", "RunRoot", "CgroupVersion", "KernelVersion", "OperatingSystem",
                    "Architecture", "NCPU", "DockerRootDir", "ServerVersion"):
            doc.setdefault(key, "N/A")
        return doc
