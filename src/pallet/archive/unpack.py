"""Archives that are not layers: checked whole, then applied by the one applier.

Owns: `unpack_checked` (`cp` into a container or onto the host: the tar is read
twice, once to check every entry against the destination as it stands and as
the earlier entries change it, once to apply it with pallet.archive.apply, so a
refused archive leaves nothing behind), `check_tar` (that first pass, which
writes nothing), `is_tar` (what ADD unpacks), `copy_tree` (a directory copied
through a tar, for RUN --mount's writable copies) and `piped` (a writer thread
feeding a reader, so no tar is staged on disk).

Invariants: the check refuses what the applier would refuse, by the same rules
(names cleaned by pallet.archive.tree.clean_parts; no entry written through a
symbolic link or below a non-directory, whether the tar or the destination
holds it; a hardlink's target must already exist, inside the destination; no
directory replaced by a non-directory when the policy keeps directories), plus
file names longer than NAME_MAX and 0:0 character devices (overlay whiteouts,
which overlayfs will not create through a mount). What neither the tar nor the
destination can tell (a concurrent change to the destination between the two
passes, a full disk, an xattr the filesystem rejects) can still stop the apply
half-way; even then nothing is written outside the destination. Imports only the standard library,
pallet.errors and pallet.archive.
"""
from __future__ import annotations

import os
import stat
import tarfile
import threading
from contextlib import contextmanager
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO, Callable, ContextManager, Iterator

from ..errors import InvalidArgument, PalletError
from .apply import WHITEOUT_PREFIX, Policy, apply_tar
from .tarreader import Entry, TarReader
from .tree import Tree, clean_parts

CHUNK = 1 << 20
NAME_MAX = 255
_SUPPORTED = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE, tarfile.DIRTYPE,
              tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE)
DIR, FILE, LINK = "directory", "file", "symlink"


def unpack_checked(open_stream: Callable[[], ContextManager[BinaryIO]], dest_fd: int,
                   policy: Policy, where: str) -> int:
    """Check the tar `open_stream()` yields against `dest_fd`, then apply a second reading.

    `where` names the destination in errors ("the container"). Returns the bytes written."""
    with open_stream() as stream:
        check_tar(stream, dest_fd, policy, where)
    with open_stream() as stream:
        return apply_tar(stream, dest_fd, policy)


def check_tar(stream: BinaryIO, dest_fd: int, policy: Policy, where: str) -> int:
    """Raise InvalidArgument for the first entry the applier would refuse; returns the count."""
    count = 0
    with Tree.from_fd(dest_fd) as tree:
        plan = _Plan(tree, policy, where)
        reader = TarReader(stream, lambda _raw: None)
        while (entry := reader.next()) is not None:
            plan.entry(entry)
            count += 1
    return count


class _Plan:
    """The destination as the entries read so far would leave it, without touching it."""

    def __init__(self, tree: Tree, policy: Policy, where: str):
        self.tree, self.policy, self.where = tree, policy, where
        self.known: dict[tuple[str, ...], tuple[str, str] | None] = {}
        self.fresh: set[tuple[str, ...]] = set()  # replaced by the tar: nothing below is on disk

    def entry(self, entry: Entry) -> None:
        name = entry.name
        if "\0" in name or "\0" in entry.linkname:
            raise self._error(name, "a name contains a NUL byte")
        try:
            parts = clean_parts(name)
        except InvalidArgument:  # the only other refusal: a `..` above the root
            raise self._error(name, f"its path escapes {self.where}") from None
        if not parts:
            return
        if any(len(os.fsencode(c)) > NAME_MAX for c in parts):
            raise self._error(name, "file name too long")
        for rel, path in self.policy.busy:
            if parts == rel:
                raise InvalidArgument(f"Error processing tar file: unlinkat {path}: device or resource busy")
        if entry.type not in _SUPPORTED:
            raise self._error(name, f"unsupported entry type {entry.type.decode(errors='replace')!r}")
        if (entry.type == tarfile.CHRTYPE and (entry.devmajor, entry.devminor) == (0, 0)
                and not self.policy.whiteouts):
            # overlayfs refuses to create its own whiteout through a mount (EPERM), as it
            # refuses Docker's cp: known now, rather than half-way through the archive
            raise self._error(name, "a character device 0:0 is an overlay whiteout, "
                                    "which cannot be created")
        self._parents(name, parts, create=True)
        if self.policy.whiteouts and parts[-1].startswith(WHITEOUT_PREFIX):
            hidden = parts[:-1] + (parts[-1][len(WHITEOUT_PREFIX):],)
            self._set(hidden, None)
            return
        existing = self._kind(parts)
        if entry.type == tarfile.DIRTYPE:
            if existing is None or existing[0] != DIR:
                self._set(parts, (DIR, ""))
            return
        if entry.type == tarfile.LNKTYPE and self._hardlink(name, parts, entry.linkname):
            return
        if existing is not None and existing[0] == DIR and self.policy.keep_dirs:
            raise InvalidArgument(f'cannot overwrite directory "/{"/".join(parts)}" with non-directory')
        self._set(parts, (LINK, entry.linkname) if entry.type == tarfile.SYMTYPE else (FILE, ""))

    def _hardlink(self, name: str, parts: tuple[str, ...], linkname: str) -> bool:
        """Check a hardlink's target; True when it names the entry itself (nothing to do)."""
        try:
            target = clean_parts(linkname)
        except InvalidArgument:
            raise self._error(name, f"hardlink target {linkname!r} is outside {self.where}") from None
        if target == parts:
            return True
        missing = self._error(name, f"hardlink target {linkname!r} does not exist in the archive "
                                    f"or {self.where}")
        if not target or not self._parents(name, target, create=False):
            raise missing
        kind = self._kind(target)
        if kind is None or kind[0] == DIR:
            raise missing
        return False

    def _parents(self, name: str, parts: tuple[str, ...], create: bool) -> bool:
        """Check that every parent of `parts` is (or, when `create`, will be) a directory."""
        for i in range(1, len(parts)):
            here = parts[:i]
            kind = self._kind(here)
            if kind is None:
                if not create:
                    return False
                self.known[here] = (DIR, "")
            elif kind[0] == LINK:
                raise self._error(name, self._through_link(here, kind[1]))
            elif kind[0] != DIR:
                raise self._error(name, f"{'/'.join(here)!r} is not a directory")
        return True

    def _through_link(self, here: tuple[str, ...], target: str) -> str:
        leaves = target.startswith("/") or _climbs(here[:-1], target)
        text = f"it goes through the symbolic link {'/'.join(here)!r} -> {target!r}"
        if leaves:
            return f"{text}, which leaves {self.where}"
        return f"{text}; archive entries are never written through symbolic links"

    def _set(self, parts: tuple[str, ...], kind: tuple[str, str] | None) -> None:
        if self._kind(parts) is not None:
            self.fresh.add(parts)
            for key in [k for k in self.known if len(k) > len(parts) and k[:len(parts)] == parts]:
                del self.known[key]
        self.known[parts] = kind

    def _kind(self, parts: tuple[str, ...]) -> tuple[str, str] | None:
        if parts in self.known:
            return self.known[parts]
        if any(parts[:i] in self.fresh for i in range(1, len(parts))):
            return None
        kind = self._on_disk(parts)
        self.known[parts] = kind
        return kind

    def _on_disk(self, parts: tuple[str, ...]) -> tuple[str, str] | None:
        # Every parent was checked (as a directory) before its children are asked about.
        try:
            fd = self.tree.open_dir(parts[:-1])
        except (FileNotFoundError, InvalidArgument):
            return None
        try:
            st = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                return LINK, os.readlink(parts[-1], dir_fd=fd)
            return (DIR if stat.S_ISDIR(st.st_mode) else FILE), ""
        except FileNotFoundError:
            return None
        finally:
            os.close(fd)

    def _error(self, name: str, why: str) -> InvalidArgument:
        return InvalidArgument(f"cannot extract {name!r} into {self.where}: {why}; nothing was copied")


def _climbs(base: tuple[str, ...], target: str) -> bool:
    """Whether relative `target`, read in directory `base`, climbs above the root."""
    depth = len(base)
    for comp in target.split("/"):
        if comp == "..":
            depth -= 1
            if depth < 0:
                return True
        elif comp not in ("", "."):
            depth += 1
    return False


def is_tar(path: Path) -> bool:
    """A file ADD unpacks: a tar, plain or compressed, with at least one entry (as Docker's
    IsArchivePath: decompress, then read one header)."""
    from .compression import open_layer_stream
    try:
        with open(path, "rb") as f:
            return TarReader(open_layer_stream(f), lambda _raw: None).next() is not None
    except (PalletError, OSError, EOFError, ValueError):
        return False


def copy_tree(src: Path, dest: Path) -> None:
    """Copy the directory `src` into the empty directory `dest` through a tar (symlinks
    copied as symlinks, hardlinks kept, ownership and modes as they are)."""
    from .export import write_tree_tar
    st = os.stat(src)
    fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        with piped(lambda out: write_tree_tar(src, out)) as reader:
            apply_tar(reader, fd, Policy(whiteouts=False, keep_dirs=True))
        os.fchown(fd, st.st_uid, st.st_gid)
        os.fchmod(fd, st.st_mode & 0o7777)
    finally:
        os.close(fd)


@contextmanager
def piped(write: Callable[[BinaryIO], object]) -> Iterator[BinaryIO]:
    """Run `write(out)` in a thread; yield a reader of what it writes."""
    rfd, wfd = os.pipe()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            with open(wfd, "wb", buffering=CHUNK) as out:
                write(out)
        except BrokenPipeError:
            pass  # the reader stopped early; its own error tells why
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="tar-writer", daemon=True)
    thread.start()
    reader = open(rfd, "rb", buffering=CHUNK)
    try:
        yield reader
        reader.read()  # let the writer finish
    except BaseException:
        reader.close()
        thread.join()
        if failure:
            raise failure[0]
        raise
    reader.close()
    thread.join()
    if failure:
        raise failure[0]

