"""`docker context export`/`import`'s file (`NAME.dockercontext`): a tar of `meta.json` and
`tls/docker/{ca,cert,key}.pem`, as docker/cli writes it (times zero, TLS files 0600).

Import reads only those entries, by name: nothing in the archive names a path on this
machine, so nothing can be written outside the new context's directories.
"""
from __future__ import annotations

import io
import json
import tarfile

from ..errors import InvalidArgument
from . import context_store as cs

MAX_ARCHIVE = 10 * 1024 * 1024  # docker/cli's limit on what import reads
TLS_NAMES = ("ca.pem", "cert.pem", "key.pem")


def export_bytes(name: str) -> bytes:
    meta = json.dumps(cs.load(name), separators=(",", ":")).encode()
    files = cs.tls_files(name)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        _add(tar, "meta.json", meta, 0o644)
        if files:
            for directory in ("tls", "tls/docker"):
                info = tarfile.TarInfo(directory)
                info.type, info.mode = tarfile.DIRTYPE, 0o700
                tar.addfile(info)
            for file_name, data in files.items():
                _add(tar, f"tls/docker/{file_name}", data, 0o600)
    return out.getvalue()


def _add(tar, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def import_bytes(name: str, data: bytes) -> None:
    """A new context `name` from an exported archive (its meta.json's Name is replaced)."""
    cs.check_new_name(name)
    meta, tls = None, {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            member = tar.firstmember
            while member is not None:
                if member.isfile() and member.name == "meta.json":
                    meta = json.loads(tar.extractfile(member).read())
                elif member.isfile() and member.name.startswith("tls/docker/") \
                        and member.name[len("tls/docker/"):] in TLS_NAMES:
                    tls[member.name[len("tls/docker/"):]] = tar.extractfile(member).read()
                try:
                    member = tar.next()
                except tarfile.ReadError:  # docker/cli's archives end without tar's end blocks
                    break
    except tarfile.ReadError:  # no compression nor tar format recognised (its text is a list)
        raise InvalidArgument("invalid context archive: not a tar archive") from None
    except (tarfile.TarError, EOFError, ValueError) as exc:  # json's errors are ValueErrors
        raise InvalidArgument(f"invalid context archive: {str(exc).splitlines()[0]}") from None
    if not isinstance(meta, dict):
        raise InvalidArgument("invalid context archive: no meta.json in it")
    meta["Name"] = name
    cs.save(name, meta, tls)
