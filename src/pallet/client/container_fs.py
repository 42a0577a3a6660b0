"""`diff`, `export` and `cp` over the Engine API (/containers/{id}/changes, /export, /archive),
with the local ContainerFS's method names. Between a remote container and a local path,
docker/cli's half of the copy runs here, with the local copy's rules and safe applier."""
from __future__ import annotations

from ..errors import InvalidArgument, NotFound
from .transport import path_of

ID = "/containers/{}"


class RemoteContainerFS:
    """`diff`, `export`, and `cp` (HEAD/GET/PUT /containers/{id}/archive). Between a remote
    container and a local path, docker/cli's half of the copy runs here with the local
    service's own rules and safe applier (`services.container_fs`): where the copy lands,
    `SRC/.`, ownership, and nothing written outside the destination."""
    KINDS = {0: "C", 1: "A", 2: "D"}

    def __init__(self, transport):
        self.t = transport

    def diff(self, ref: str) -> list[tuple[str, str]]:
        changes = self.t.call("GET", path_of(ID + "/changes", ref)) or []
        return [(self.KINDS.get(c.get("Kind"), "C"), c.get("Path", "")) for c in changes]

    def export(self, ref: str, out) -> None:
        for chunk in self.t.request("GET", path_of(ID + "/export", ref)).chunks():
            out.write(chunk)

    def archive(self, ref: str, src: str, out, follow: bool = False) -> None:
        for chunk in self.t.request("GET", path_of(ID + "/archive", ref), {"path": src}).chunks():
            out.write(chunk)

    def extract_into(self, ref: str, stream, dest: str, archive: bool = False) -> None:
        self.t.request("GET", path_of(ID + "/json", ref)).close()  # an unknown one fails before stdin is read
        self.t.request("PUT", path_of(ID + "/archive", ref), {"path": dest, "copyUIDGID": archive or None},
                       _chunks(stream))

    def stat(self, ref: str, path: str) -> dict:
        """The engine's X-Docker-Container-Path-Stat for `path`: name, size, mode (Go's), linkTarget."""
        import base64
        import json
        try:
            resp = self.t.request("HEAD", path_of(ID + "/archive", ref), {"path": path})
        except NotFound:  # a HEAD answer has no message: moby's client words it so
            raise NotFound(f"No such container:path: {ref}:{path}") from None
        resp.close()
        header = resp.headers.get("x-docker-container-path-stat") or ""
        return json.loads(base64.b64decode(header)) if header else {}

    def copy_out(self, ref: str, src: str, dest: str, archive: bool = False, follow: bool = False) -> None:
        import os
        import tempfile
        from ..services.container_fs import copies_contents, host_target, unpack_into
        info = self.stat(ref, src)
        if follow and info.get("linkTarget"):  # docker/cli: -L copies what the link names
            src = info["linkTarget"] if info["linkTarget"].startswith("/") else \
                os.path.join(os.path.dirname(src.rstrip("/")) or "/", info["linkTarget"])
            info = self.stat(ref, src)
        is_dir = bool(int(info.get("mode") or 0) & GO_DIR)
        parent, name = host_target(dest, is_dir, copies_contents(src, is_dir), info.get("name") or "")
        with tempfile.TemporaryFile(prefix="pallet-cp-") as spool:
            self.archive(ref, src, spool)
            fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                unpack_into(lambda out: _renamed(spool, info.get("name") or "", name, out), fd,
                            None if archive else (os.geteuid(), os.getegid()), "the destination")
            finally:
                os.close(fd)

    def copy_in(self, ref: str, src: str, dest: str, archive: bool = False, follow: bool = False) -> None:
        import os
        import stat as st_mod
        from pathlib import Path
        from ..errors import NotFound as Missing
        from ..services.container_fs import copies_contents
        from ..services.container_fs_scope import Scope
        from ..services.container_fs_tar import write_tar
        src_abs = os.path.realpath(src) if follow else os.path.abspath(src)
        try:
            is_dir = st_mod.S_ISDIR(os.lstat(src_abs).st_mode)
        except FileNotFoundError:
            raise Missing(f"lstat {src_abs}: no such file or directory") from None
        base = os.path.basename(src_abs)
        try:
            target = self.stat(ref, dest)
        except Missing:
            target = None
        if target is not None and int(target.get("mode") or 0) & GO_DIR:
            parent, name = dest, "" if copies_contents(src, is_dir) or not base else base
        elif dest.endswith("/"):
            raise Missing(f'destination directory "{dest}" must exist')
        elif target is not None and is_dir:
            raise InvalidArgument(f'cannot copy directory "{dest}": destination exists and is not a directory')
        else:
            parent, name = os.path.dirname(dest.rstrip("/")) or "/", os.path.basename(dest.rstrip("/"))
        host = Scope(Path(os.path.dirname(src_abs) or "/"))
        from .streams import piped_chunks
        body = piped_chunks(lambda out: write_tar(host, (base,) if base else (), name, out))
        self.t.request("PUT", path_of(ID + "/archive", ref), {"path": parent, "copyUIDGID": archive or None}, body)


GO_DIR = 1 << 31  # Go's os.ModeDir, in the stat header's mode


def _renamed(spool, old: str, new: str, out) -> None:
    """The archive the engine sent (its top entry named `old`) with that entry named `new`
    ("" : only what is below it), as the local copy names it."""
    import tarfile
    spool.seek(0)
    with tarfile.open(fileobj=spool, mode="r|") as src, tarfile.open(fileobj=out, mode="w|",
                                                                      format=tarfile.PAX_FORMAT) as dst:
        for member in src:
            rest = member.name[len(old):] if member.name == old or member.name.startswith(old + "/") else None
            if rest is None:
                continue
            if not new and not rest:
                continue  # the directory itself: its contents go into the destination
            member.name = (new + rest) if new else rest.lstrip("/")
            if member.islnk() and (member.linkname == old or member.linkname.startswith(old + "/")):
                tail = member.linkname[len(old):]
                member.linkname = (new + tail) if new else tail.lstrip("/")
            dst.addfile(member, src.extractfile(member) if member.isreg() else None)


def _chunks(stream):
    while chunk := stream.read(1 << 20):
        yield chunk
