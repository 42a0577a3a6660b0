"""A container's files: `diff`, `commit`, `export` and `cp` (both ways).

Owns: access to a container's merged tree (the live overlay mount while it
runs; a temporary mount, under the container lock, while it is stopped), with
its volumes and binds seen where the container sees them; Docker's `cp` path
rules (trailing `/.`, destination directory vs file, `-` for a tar stream);
and commit (the writable layer as a new top layer, deletions as whiteouts,
`-c` changes applied, the container paused meanwhile and otherwise untouched).

Invariants: every container path is resolved by pallet.services.container_fs_scope
(never by the host's resolution), and every write into a container or into a
host destination is a tar applied by pallet.archive.apply after
pallet.archive.unpack checked all of it, so no symlink in the container reaches
the host, nothing is written outside the destination, and a refused archive
leaves nothing behind. `diff` and `commit` never modify the upper dir.
"""
from __future__ import annotations

import os
import posixpath
import stat
from contextlib import contextmanager
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO, Iterator

from ..errors import Conflict, InvalidArgument, NotFound
from .container_fs_scope import Scope, split_path
from .container_fs_tar import write_tar

# Mount points the runtime makes in the writable layer when the image lacks them
# (Docker keeps these in an init layer, so its diff never shows them).
RUNTIME_ARTIFACTS = ("etc/hosts", "etc/hostname", "etc/resolv.conf", "proc", "sys", "dev",
                     "etc/mtab", ".dockerenv")


class ContainerFS:
    """Over the container service, the image service (the layers under a container) and,
    for `commit`, the store pieces a new image is written with."""

    def __init__(self, paths, containers, images, image_store, layers, locks):
        self.paths = paths
        self.containers = containers
        self.images = images
        self.image_store = image_store
        self.layers = layers
        self.locks = locks

    # ---- tree access ----
    @contextmanager
    def tree(self, ref: str, mounts: bool = True) -> Iterator[tuple[dict, Scope]]:
        """The container's record and its merged tree (volumes/binds included if `mounts`)."""
        from ..snapshot import overlay
        svc = self.containers
        cid = svc.resolve(ref)
        rootfs = svc.rootfs(cid)
        record = svc.get(cid)
        if record["State"]["Running"] and overlay.is_mounted(rootfs):
            yield record, _scope(rootfs, record, mounts)
            return
        with svc._locked(cid):  # a start waits until the temporary mount is gone
            record = svc.get(cid)
            layers = self.images.layer_dirs(record["Image"])
            overlay.mount(overlay.describe(self.paths.container(cid), layers,
                                           self.paths.layers), rootfs)
            try:
                yield record, _scope(rootfs, record, mounts)
            finally:
                overlay.unmount(rootfs)

    # ---- diff ----
    def diff(self, ref: str) -> list[tuple[str, str]]:
        """`docker diff`: (kind, path) with kind A, C or D, sorted by path."""
        from ..archive.changes import changes
        cid = self.containers.resolve(ref)
        record = self.containers.get(cid)
        upper = self.paths.container(cid) / "upper"
        lowers = list(reversed(self.images.layer_dirs(record["Image"])))
        found = [(c.kind, c.path) for c in changes(upper, lowers)]
        return _without_artifacts(found, upper)

    # ---- export ----
    def export(self, ref: str, out: BinaryIO) -> None:
        """The flattened root filesystem as a tar (volumes excluded, as Docker's export)."""
        with self.tree(ref, mounts=False) as (_record, scope):
            write_tar(scope, (), "", out)

    # ---- commit ----
    def commit(self, ref: str, repository: str | None = None, author: str = "", message: str = "",
               changes: list[str] = (), pause: bool = True) -> str:
        from .containers.commit import commit
        return commit(self, ref, repository, author, message, list(changes), pause)

    # ---- cp: container -> host ----
    def archive(self, ref: str, src: str, out: BinaryIO, follow: bool = False) -> None:
        """`cp CONTAINER:SRC -`: the source as a tar named by its base name."""
        with self.tree(ref) as (record, scope):
            parts, _st = _source(scope, src, follow, ref)
            write_tar(scope, parts, _entry_name(src, parts, follow) or ".", out)

    def stat(self, ref: str, path: str) -> tuple[str, os.stat_result, str]:
        """What `cp` asks before it copies (HEAD /containers/{id}/archive): the path's base
        name, its lstat and, for a symlink, its target; resolved inside the container."""
        with self.tree(ref) as (record, scope):
            parts, st = _source(scope, path, False, ref)
            target = ""
            if stat.S_ISLNK(st.st_mode):
                dfd, name = scope.locate(parts)
                try:
                    target = os.readlink(name, dir_fd=dfd)
                finally:
                    os.close(dfd)
            return _entry_name(path, parts, False) or "/", st, target

    def copy_out(self, ref: str, src: str, dest: str, archive: bool = False,
                 follow: bool = False) -> None:
        owner = None if archive else (os.geteuid(), os.getegid())
        with self.tree(ref) as (record, scope):
            parts, st = _source(scope, src, follow, ref)
            is_dir = stat.S_ISDIR(st.st_mode)
            parent, name = host_target(dest, is_dir, copies_contents(src, is_dir), _base(src, parts, follow))
            fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                unpack_into(lambda out: write_tar(scope, parts, name, out), fd, owner, "the destination")
            finally:
                os.close(fd)

    # ---- cp: host -> container ----
    def copy_in(self, ref: str, src: str, dest: str, archive: bool = False,
                follow: bool = False) -> None:
        src_abs = os.path.realpath(src) if follow else os.path.abspath(src)
        try:
            st = os.lstat(src_abs)
        except FileNotFoundError:
            raise NotFound(f"lstat {src_abs}: no such file or directory") from None
        is_dir = stat.S_ISDIR(st.st_mode)
        host = Scope(Path(os.path.dirname(src_abs) or "/"))
        host_parts = (os.path.basename(src_abs),) if os.path.basename(src_abs) else ()
        base = os.path.basename(src_abs)
        with self.tree(ref) as (record, scope):
            parent, name = _container_target(scope, record, dest, is_dir, copies_contents(src, is_dir), base)
            fd = scope.open_dir(parent)
            try:
                unpack_into(lambda out: write_tar(host, host_parts, name, out), fd,
                        None if archive else (0, 0), "the container", _file_mounts_below(scope, parent))
            finally:
                os.close(fd)

    def extract_into(self, ref: str, stream: BinaryIO, dest: str, archive: bool = False) -> None:
        """`cp - CONTAINER:DEST`: a tar stream (plain or compressed, as Docker's Untar takes it)
        unpacked into an existing directory, all of it or, when any entry is refused, none."""
        import tempfile
        self.containers.resolve(ref)  # an unknown container fails before stdin is read
        with tempfile.TemporaryFile(dir=self._ingest(), prefix="cp-") as spool:
            _spool(stream, spool)
            self._extract_spooled(ref, spool, dest, archive)

    def remove(self, ref: str, path: str) -> bool:
        """Delete `path` in the container (a directory with what is in it), as `rm -rf` run
        in it would: resolved inside the container, the last part not followed (a symlink
        goes, not what it names), missing is no error. The root and mount points stay.
        False when there was nothing to delete."""
        import shutil
        with self.tree(ref) as (record, scope):
            try:
                parts = scope.resolve(path, follow_last=False)
                st = scope.lstat(parts)
            except (FileNotFoundError, NotADirectoryError):
                return False
            if st is None:
                return False
            if not parts or parts in scope.mounts:
                raise InvalidArgument(f"cannot remove {path}: it is the root or a mount point of the container")
            _check_writable(scope, record, parts)
            dfd, name = scope.locate(parts)
            try:
                if stat.S_ISDIR(st.st_mode):
                    shutil.rmtree(name, dir_fd=dfd)  # fd-relative, never follows a symlink
                else:
                    os.unlink(name, dir_fd=dfd)
            finally:
                os.close(dfd)
            return True

    def _ingest(self) -> Path:
        self.paths.ingest.mkdir(parents=True, exist_ok=True)
        return self.paths.ingest

    def _extract_spooled(self, ref: str, spool: BinaryIO, dest: str, archive: bool) -> None:
        with self.tree(ref) as (record, scope):
            try:
                parts = scope.resolve(dest)
                st = scope.lstat(parts)
            except OSError:
                st = None
            if st is None or not stat.S_ISDIR(st.st_mode):
                raise InvalidArgument(f'destination "{ref}:{dest}" must be a directory')
            _check_writable(scope, record, parts)
            fd = scope.open_dir(parts)
            try:
                unpack_into(lambda out: _replay(spool, out), fd, None if archive else (0, 0),
                        "the container", _file_mounts_below(scope, parts))
            finally:
                os.close(fd)


def unpack_into(write, fd: int, owner: tuple[int, int] | None, where: str, busy=()) -> None:
    """Apply the tar `write(out)` produces beneath `fd`, all of it or none (it is produced
    twice: once to check every entry against the destination, once to apply). `busy`: the
    file binds below `fd` (see Policy.busy)."""
    from ..archive.apply import Policy
    from ..archive.unpack import piped, unpack_checked
    policy = Policy(whiteouts=False, owner=owner, keep_dirs=True, root_meta=False, busy=tuple(busy))
    unpack_checked(lambda: piped(write), fd, policy, where)


def _spool(stream: BinaryIO, spool: BinaryIO) -> None:
    import shutil
    from ..archive.compression import open_layer_stream
    try:
        shutil.copyfileobj(open_layer_stream(stream), spool, 1 << 20)
    except EOFError as exc:
        raise InvalidArgument(f"invalid tar archive: {exc}") from exc


def _replay(spool: BinaryIO, out: BinaryIO) -> None:
    import shutil
    spool.seek(0)
    shutil.copyfileobj(spool, out, 1 << 20)


# the files runc bind-mounts over the image's, as Docker does (runtime/hostfiles.py)
ETC_FILES = (("HostnamePath", "/etc/hostname"), ("HostsPath", "/etc/hosts"),
             ("ResolvConfPath", "/etc/resolv.conf"))


def _file_mounts_below(scope: Scope, parts: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    """The file binds under directory `parts`: (path relative to it, container path)."""
    return [(m[len(parts):], "/" + "/".join(m)) for m in scope.mounts
            if m[:len(parts)] == parts and len(m) > len(parts) and scope.file_mount(m) is not None]


def _scope(rootfs: Path, record: dict, mounts: bool) -> Scope:
    table = {}
    if not mounts:
        return Scope(rootfs, table)
    for key, dest in ETC_FILES:
        if record.get(key) and os.path.isfile(record[key]):
            table[tuple(split_path(dest))] = (Path(record[key]), False)
    for m in record.get("Mounts") or []:
        if m.get("Type") in ("volume", "bind") and m.get("Source"):
            # a file's source is resolved now, as the kernel did when it bound it
            source = Path(os.path.realpath(m["Source"])) if not os.path.isdir(m["Source"]) else Path(m["Source"])
            table[tuple(split_path(m["Destination"]))] = (source, not m.get("RW", True))
    return Scope(rootfs, table)


def _source(scope: Scope, src: str, follow: bool, ref: str) -> tuple[tuple[str, ...], os.stat_result]:
    missing = NotFound(f"Could not find the file {src} in container {ref}")
    try:
        parts = scope.resolve(src, follow_last=follow)
        st = scope.lstat(parts)
    except (FileNotFoundError, NotADirectoryError):
        raise missing from None
    if st is None:
        raise missing
    return parts, st


def copies_contents(src: str, is_dir: bool) -> bool:
    """Docker's `SRC/.`: copy what is in the directory, not the directory itself."""
    return is_dir and (src.endswith("/.") or src == ".")


def _entry_name(src: str, parts: tuple[str, ...], follow: bool) -> str:
    """The name the archive and the stat of `src` give it. `SRC/.` names the directory's
    contents: dockerd names it "." (Go's filepath.Base keeps the dot), its entries `./…`,
    which a client extracts into an existing destination directory as they are."""
    return "." if os.path.basename(src.rstrip("/")) == "." else _base(src, parts, follow)


def _base(src: str, parts: tuple[str, ...], follow: bool) -> str:
    words = split_path(src)
    if follow or not words or words[-1] == "..":
        return parts[-1] if parts else ""
    return words[-1]


def host_target(dest: str, is_dir: bool, contents: bool, base: str) -> tuple[str, str]:
    """(existing host directory, name to create there); "" means the source's contents."""
    if os.path.isdir(dest):
        return dest, "" if contents or not base else base
    if dest.endswith("/"):
        if os.path.exists(dest.rstrip("/")):
            raise InvalidArgument(f'destination "{dest}" must be a directory')
        raise NotFound(f'destination directory "{dest}" must exist')
    if is_dir and os.path.lexists(dest):
        raise InvalidArgument(f'cannot copy directory "{dest}": destination exists and is not a directory')
    parent = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(parent):
        raise NotFound(f"no such directory: {parent}")
    return parent, os.path.basename(os.path.abspath(dest))


def _container_target(scope: Scope, record: dict, dest: str, is_dir: bool, contents: bool,
                      base: str) -> tuple[tuple[str, ...], str]:
    try:
        parts = scope.resolve(dest)
        st = scope.lstat(parts)
    except (FileNotFoundError, NotADirectoryError):  # Docker names the missing parent
        missing = posixpath.dirname(posixpath.normpath("/" + dest.lstrip("/")))
        raise NotFound(f"Could not find the file {missing} in container {record['Name'].lstrip('/')}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        _check_writable(scope, record, parts)
        return parts, "" if contents or not base else base
    if dest.endswith("/"):
        raise NotFound(f'destination directory "{dest}" must exist')
    if st is not None and is_dir:
        raise InvalidArgument(f'cannot copy directory "{dest}": destination exists and is not a directory')
    if not parts:
        raise InvalidArgument(f'destination "{dest}" must be a directory')
    parent = scope.lstat(parts[:-1])
    if parent is None or not stat.S_ISDIR(parent.st_mode):
        raise NotFound(f"Could not find the file /{'/'.join(parts[:-1])} in container "
                       f"{record['Name'].lstrip('/')}")
    _check_writable(scope, record, parts)
    return parts[:-1], parts[-1]


def _check_writable(scope: Scope, record: dict, parts: tuple[str, ...]) -> None:
    mount = scope.mount_of(parts)
    if mount is not None:
        if mount[2]:
            raise Conflict("mounted volume is marked read-only")
    elif record["HostConfig"].get("ReadonlyRootfs"):
        raise Conflict("container rootfs is marked read-only")


def _without_artifacts(found: list[tuple[str, str]], upper: Path) -> list[tuple[str, str]]:
    """Drop the runtime's own mount points, and directories changed only by them."""
    dropped = set()
    for kind, path in found:
        rel = path.lstrip("/")
        if kind == "A" and rel in RUNTIME_ARTIFACTS and _empty(upper / rel):
            dropped.add(path)
    if not dropped:
        return found
    kept = [(k, p) for k, p in found if p not in dropped]
    paths = {p for _k, p in kept}

    def only_artifacts(path: str) -> bool:
        prefix = path.rstrip("/") + "/"
        return (any(d.startswith(prefix) for d in dropped)
                and not any(p.startswith(prefix) for p in paths))
    return [(k, p) for k, p in kept if not (k == "C" and only_artifacts(p))]


def _empty(path: Path) -> bool:
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        return not os.listdir(path)
    return stat.S_ISREG(st.st_mode) and st.st_size == 0
