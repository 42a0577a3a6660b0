"""The build context: a directory (or a tar from stdin unpacked into one), as COPY sees it.

Owns: finding COPY/ADD sources (globs, .dockerignore), resolving them INSIDE the
context, walking what a source sends, and the content digests the cache keys on.

Invariants:
  * Nothing outside the context root is ever read. `..` above the root is
    refused (`forbidden path outside the build context`); a symlink named as a
    source is resolved as if the context root were `/` (so `link -> /etc/passwd`
    finds `<context>/etc/passwd`, never the host's); symlinks inside a copied
    directory are copied as symlinks, never followed.
  * Paths excluded by .dockerignore do not exist for COPY.
  * Digests cover names, file types, permission bits, symlink targets and file
    contents; never mtimes, atimes or owners. Files are hashed streaming
    (1 MiB chunks): flat memory, disk speed.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

from ..errors import InvalidArgument, NotFound

PARALLEL_HASH_BYTES = 64 << 20  # below this one thread is as quick (and starts none)
HASH_THREADS = min(4, os.cpu_count() or 1)
from .dockerignore import Matcher, compile_pattern, read_patterns

GLOB_CHARS = set("*?[")
MAX_LINKS = 40


@dataclass
class Source:
    """One resolved COPY source: where it is on disk and how it is named in the context."""
    rel: str          # context-relative path after symlink resolution ("" = the root)
    path: Path
    st: os.stat_result


@dataclass
class BuildContext:
    root: Path | None                        # None: no context (`build - < Dockerfile`)
    matcher: Matcher = field(default_factory=lambda: Matcher([]))
    _digests: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_dir(cls, path: str | Path) -> "BuildContext":
        root = Path(path).resolve()
        if not root.is_dir():
            raise InvalidArgument(f'unable to prepare context: path "{path}" not found')
        ignore = root / ".dockerignore"
        patterns = read_patterns(ignore.read_text()) if ignore.is_file() else []
        return cls(root, Matcher(patterns))

    @classmethod
    def from_tar(cls, stream: BinaryIO, dest: Path) -> "BuildContext":
        """Unpack a context tar (plain or compressed) safely into `dest`. It is not a layer:
        a `.wh.` file in it is a file, as in Docker's context."""
        from ..archive.apply import Policy, apply_tar
        from ..archive.compression import open_layer_stream
        dest.mkdir(parents=True, exist_ok=True)
        fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            apply_tar(open_layer_stream(stream), fd, Policy(whiteouts=False, root="the build context"))
        finally:
            os.close(fd)
        return cls.from_dir(dest)

    # ---- sources ----
    def sources(self, pattern: str) -> list[Source]:
        """What a COPY/ADD source names: one path, or every match of a glob. NotFound when none."""
        if self.root is None:
            raise NotFound(f"file not found in build context or excluded by .dockerignore: "
                           f"stat {pattern}: file does not exist (no build context was given)")
        rel = clean_rel(pattern)
        if any(c in GLOB_CHARS for c in rel):
            found = self._glob(rel)
            if not found:
                raise NotFound(f"no source files were specified: {pattern} matched nothing "
                               "in the build context")
            return found
        src = self.resolve(rel)
        if src is None or (src.rel and self.matcher.excluded(src.rel)):
            raise NotFound("file not found in build context or excluded by .dockerignore: "
                           f"stat {rel}: file does not exist")
        return [src]

    def resolve(self, rel: str) -> Source | None:
        """Follow symlinks as if the context root were `/`; None when missing."""
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        done: list[str] = []
        links = 0
        while parts:
            name = parts.pop(0)
            if name == "..":
                if done:
                    done.pop()
                continue
            path = self.root.joinpath(*done, name)
            try:
                st = os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                return None
            if stat.S_ISLNK(st.st_mode):
                links += 1
                if links > MAX_LINKS:
                    raise InvalidArgument(f"too many levels of symbolic links resolving {rel}")
                target = os.readlink(path)
                if target.startswith("/"):
                    done = []
                parts = [p for p in target.split("/") if p not in ("", ".")] + parts
                continue
            done.append(name)
        path = self.root.joinpath(*done)
        return Source("/".join(done), path, os.lstat(path))

    def _glob(self, pattern: str) -> list[Source]:
        regex = compile_pattern(pattern)
        out = []
        for rel, st in self.walk(""):
            if regex.match(rel):
                out.append(Source(rel, self.root / rel, st))
        return out

    def walk(self, rel_dir: str) -> Iterator[tuple[str, os.stat_result]]:
        """Entries under a context directory, sorted, .dockerignore applied, symlinks not followed."""
        base = self.root / rel_dir if rel_dir else self.root
        for name in sorted(os.listdir(base)):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            st = os.lstat(self.root / rel)
            is_dir = stat.S_ISDIR(st.st_mode)
            if self.matcher.excluded(rel):
                if is_dir and self.matcher.may_contain_included(rel):
                    yield from self.walk(rel)
                continue
            yield rel, st
            if is_dir:
                yield from self.walk(rel)

    def transfer_size(self) -> int:
        """What BuildKit's `transferring context` counts: the bytes of the files it sends."""
        if self.root is None:
            return 0
        return sum(st.st_size for _rel, st in self.walk("") if stat.S_ISREG(st.st_mode))

    # ---- digests ----
    def source_digest(self, src: Source) -> tuple[str, dict[str, str]]:
        """(digest of everything the source sends, {context path: entry digest})."""
        entries: dict[str, str] = {}
        if stat.S_ISDIR(src.st.st_mode):
            entries[src.rel or "."] = f"dir {src.st.st_mode & 0o7777:o}"
            found = list(self.walk(src.rel))
            self._hash_files([(self.root / rel, st) for rel, st in found])
            for rel, st in found:
                entries[rel] = self.entry_digest(self.root / rel, st)
        else:
            entries[src.rel] = self.entry_digest(src.path, src.st)
        h = hashlib.sha256()
        for name in sorted(entries):
            h.update(f"{name}\0{entries[name]}\n".encode("utf-8", "surrogateescape"))
        return "sha256:" + h.hexdigest(), entries

    def _hash_files(self, found: list[tuple[Path, os.stat_result]]) -> None:
        """Digest the regular files not known yet on two threads when there is much to read:
        one core hashes ~800 MB/s, a disk reads faster (hashlib lets go of the GIL)."""
        todo = {}
        for path, st in found:
            key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            if stat.S_ISREG(st.st_mode) and key not in self._digests:
                todo[key] = path
        if sum(k[2] for k in todo) < PARALLEL_HASH_BYTES:
            return  # entry_digest hashes them one by one
        import threading
        keys = sorted(todo, key=lambda k: -k[2])  # biggest first: the two threads end together
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    if not keys:
                        return
                    key = keys.pop(0)
                digest = file_digest(todo[key])
                self._digests[key] = digest
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(HASH_THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def entry_digest(self, path: Path, st: os.stat_result) -> str:
        mode = f"{st.st_mode & 0o7777:o}"
        if stat.S_ISLNK(st.st_mode):
            return f"link {mode} {os.readlink(path)}"
        if stat.S_ISDIR(st.st_mode):
            return f"dir {mode}"
        if not stat.S_ISREG(st.st_mode):
            return f"special {stat.S_IFMT(st.st_mode):o} {mode}"
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if key not in self._digests:
            self._digests[key] = file_digest(path)
        return f"file {mode} {self._digests[key]}"


def file_digest(path: Path) -> str:
    """sha256 of a file's content, streamed (never opened through a symlink)."""
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)  # larger readahead: the disk keeps up
    with os.fdopen(fd, "rb", buffering=0) as f:
        buf = bytearray(4 << 20)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
    return "sha256:" + h.hexdigest()


def clean_rel(pattern: str) -> str:
    """A source as a clean context-relative path; `..` that leaves the context is refused."""
    cleaned = posixpath.normpath("/" + pattern.lstrip("/")) if pattern.startswith("/") else \
        posixpath.normpath(pattern)
    if cleaned == ".." or cleaned.startswith("../"):
        raise InvalidArgument(f"forbidden path outside the build context: {pattern} ()")
    return cleaned.lstrip("/") if cleaned not in (".", "/") else ""
