"""OCI image and Docker v2 schema 2 documents: media types, configs, manifests, indexes.

Pure: builds and reads JSON documents, no I/O. Configs are kept as the exact
bytes they arrived in (the image ID is the sha256 of those bytes); configs
pallet makes itself are serialised compactly with sorted keys so the same
content always gives the same ID.
"""
from __future__ import annotations

import os
import time
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import Any

from .. import jsontext
from ..errors import InvalidArgument

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFEST_TYPES = {OCI_MANIFEST, DOCKER_MANIFEST}
INDEX_TYPES = {OCI_INDEX, DOCKER_LIST}
LAYER_TYPES = {OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, DOCKER_LAYER_GZIP, DOCKER_LAYER,
               DOCKER_FOREIGN, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"}

# The OCI config fields pallet knows, in Docker's inspect order.
CONFIG_FIELDS = ("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir",
                 "Labels", "StopSignal", "Healthcheck", "OnBuild", "Shell", "ArgsEscaped")

_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
           "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def host_platform() -> dict[str, str]:
    machine = os.uname().machine
    return {"os": "linux", "architecture": _GOARCH.get(machine, machine)}


# Timestamps are formatted with `time`, not `datetime`: importing datetime costs every
# command ~2 ms, and `run` stamps several times.
def now_rfc3339() -> str:
    return rfc3339_ts(time.time())


def rfc3339(dt) -> str:
    """Go's RFC3339Nano as Docker prints it (a datetime; naive means local time)."""
    return rfc3339_ts(dt.timestamp())


def rfc3339_ts(ts: float) -> str:
    """Go's RFC3339Nano as Docker prints it: UTC, trailing zeros of the fraction dropped."""
    whole = int(ts // 1)
    frac = f"{round((ts - whole) * 1e6):06d}"
    if frac == "1000000":
        whole, frac = whole + 1, "000000"
    frac = frac.rstrip("0")
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + (f".{frac}" if frac else "") + "Z"


def parse_time(text: str | None) -> float:
    """RFC 3339 (with up to nanosecond fractions) to a Unix timestamp; 0 when absent."""
    if not text:
        return 0.0
    t = text.strip().replace("Z", "+00:00")
    main, _, rest = t.partition(".")
    if rest:
        digits = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(digits):]
        t = f"{main}.{digits[:6]}{tz}"
    from datetime import datetime
    try:
        return datetime.fromisoformat(t).timestamp()
    except ValueError:
        return 0.0


def encode(doc: dict) -> bytes:
    """Canonical bytes for documents pallet creates."""
    return jsontext.dumps(doc, compact=True, sort_keys=True, ensure_ascii=False).encode()


def decode(data: bytes, what: str) -> dict:
    try:
        doc = jsontext.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"malformed {what}: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidArgument(f"malformed {what}: not a JSON object")
    return doc


def new_config(diff_ids: list[str], cfg: dict | None = None, history: list[dict] | None = None,
               created: str | None = None, author: str = "") -> dict:
    doc: dict[str, Any] = {
        **host_platform(),
        "config": {k: v for k, v in (cfg or {}).items() if v not in (None, [], {}, "")},
        "created": created or now_rfc3339(),
        "history": history or [],
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }
    if author:
        doc["author"] = author
    return doc


def validate_config(doc: dict) -> None:
    rootfs = doc.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids", []), list):
        raise InvalidArgument("malformed image config: rootfs.diff_ids missing")


def diff_ids(config: dict) -> list[str]:
    return list(config.get("rootfs", {}).get("diff_ids") or [])


def manifest(config_digest: str, config_size: int, layers: list[tuple[str, int, str]],
             docker: bool = False) -> dict:
    """A single-platform manifest; layers are (digest, size, media_type)."""
    return {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": mt, "digest": d, "size": s} for d, s, mt in layers],
    }


def read_manifest(doc: dict) -> tuple[dict, list[dict]]:
    """Returns (config descriptor, layer descriptors), checking the shape."""
    cfg, layers = doc.get("config"), doc.get("layers")
    if doc.get("schemaVersion") != 2 or not isinstance(cfg, dict) or not isinstance(layers, list):
        raise InvalidArgument("malformed manifest: expected schemaVersion 2 with config and layers")
    for d in [cfg, *layers]:
        if not isinstance(d, dict) or "digest" not in d:
            raise InvalidArgument("malformed manifest: descriptor without digest")
    return cfg, layers


def select_platform(index: dict, want: dict[str, str] | None = None) -> dict:
    """Pick the manifest descriptor for a platform (default: the host's) from an index."""
    want = want or host_platform()
    for desc in index.get("manifests") or []:
        plat = desc.get("platform") or {}
        if plat.get("os") == want["os"] and plat.get("architecture") == want["architecture"]:
            if not want.get("variant") or plat.get("variant") == want.get("variant"):
                return desc
    raise InvalidArgument(f"no matching manifest for {want['os']}/{want['architecture']} "
                          "in the manifest list entries")
