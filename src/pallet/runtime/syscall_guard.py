"""The host facts behind the fast seccomp rendering, and the guard filter's installation.

Owns: whether this host can take Docker's profile in its inverted form
(`pallet.runtime.seccomp.inverted_profile`), the libseccomp syscall tables that form is
computed from, and putting the guard filter under the processes that make container
processes (conmon, ``runc exec``).

The tables are read from the libseccomp that the runtime binary links (through ctypes, a
few ms) once per runtime/libseccomp pair and kept in ``<runroot>/seccomp-tables.json``,
keyed by both files' identity: an upgrade of either is noticed. Anything that makes the
equivalence uncertain answers None and the container gets Docker's allowlist as is:
another machine than x86_64, the x32 ABI enabled, a runtime that is not runc or carries
its own libseccomp (a static build), tables newer than Docker's list (`tables_fit`), not
root, or a caller already running under a seccomp filter (a `--restart` carried out by
conmon's exit command: installing the guard again at each restart would stack filters).

The guard goes on a helper thread (`call_guarded`) or a forked child (`preexec`), never
on the calling thread: seccomp filters are per thread and inherited by children, so the
CLI or API server itself stays unfiltered.
"""
from __future__ import annotations

import os
from pathlib import Path

from .. import jsontext, libc

CACHE_NAME = "seccomp-tables.json"
LIBSECCOMP = b"libseccomp.so.2"
SYS_SECCOMP = 317  # x86_64
SECCOMP_SET_MODE_FILTER = 1


class HostTables:
    """Every syscall name libseccomp knows for x86_64 and x86, and the guard for its tables."""

    def __init__(self, names: list[str], guard: bytes):
        self.names = names
        self.guard = guard


_CACHED: dict[tuple, HostTables | None] = {}


def host_tables(runtime: str, cache_dir: Path) -> HostTables | None:
    """The tables for `runtime`, or None when the inverted rendering must not be used."""
    key = (runtime, str(cache_dir))
    if key not in _CACHED:
        eligible = (os.uname().machine == "x86_64" and os.geteuid() == 0
                    and os.path.basename(runtime) == "runc")
        _CACHED[key] = _cached_or_read(runtime, Path(cache_dir) / CACHE_NAME) if eligible else None
    return _CACHED[key]


def usable(runtime: str, cache_dir: Path) -> HostTables | None:
    """`host_tables`, and only if this thread runs unfiltered (see the module docstring)."""
    found = host_tables(runtime, cache_dir)
    return found if found is not None and not _filtered() else None


def _filtered() -> bool:
    with open("/proc/thread-self/status", "rb") as f:
        for line in f:
            if line.startswith(b"Seccomp:"):
                return line.split()[1] != b"0"
    return True


def _key(runtime: str, library: str | None) -> list:
    """What the saved answer depends on: both binaries, and the boot (the x32 probe)."""
    with open("/proc/sys/kernel/random/boot_id", "rb") as f:
        key = [f.read().strip().decode()]
    for path in (runtime, library):
        if path is not None:
            st = os.stat(path)
            key += [path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
    return key


def _cached_or_read(runtime: str, cache: Path) -> HostTables | None:
    try:
        saved = jsontext.loads(cache.read_bytes())
        if saved["key"] == _key(runtime, saved["library"]):
            return _from_saved(saved)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing, stale or unreadable: read the tables again
    try:
        saved = _read_tables(runtime)
    except OSError:
        return None  # no runtime binary to read: runc itself will say so
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(jsontext.dumps(saved))
        os.replace(tmp, cache)  # a cache: no fsync, a torn file is just read again
    except OSError:
        tmp.unlink(missing_ok=True)
    return _from_saved(saved)


def _from_saved(saved: dict) -> HostTables | None:
    return HostTables(saved["names"], bytes.fromhex(saved["guard"])) if saved["guard"] else None


def _read_tables(runtime: str) -> dict:
    """Ask the libseccomp `runtime` links for its tables (the slow path, once per pair)."""
    from . import seccomp
    tables = read_tables(runtime)
    library = _loaded_path(LIBSECCOMP.decode()) if tables else None
    saved = {"key": _key(runtime, library), "library": library, "names": None, "guard": None}
    from .spec import kernel_runs_x32
    if tables and seccomp.tables_fit(tables) and not kernel_runs_x32():
        saved["names"] = sorted(set().union(*tables.values()))
        saved["guard"] = seccomp.guard_program(tables).hex()
    return saved


def read_tables(runtime: str) -> dict[str, dict[str, int]] | None:
    """arch -> name -> number from the libseccomp that `runtime` links, or None if it links
    none (a static build carries its own, whose tables we cannot read)."""
    with open(runtime, "rb") as f:
        if LIBSECCOMP + b"\0" not in f.read():
            return None
    import ctypes
    from . import seccomp
    try:
        lib = ctypes.CDLL(LIBSECCOMP.decode())
    except OSError:
        return None
    resolve = lib.seccomp_syscall_resolve_num_arch
    resolve.restype, resolve.argtypes = ctypes.c_void_p, [ctypes.c_uint32, ctypes.c_int]
    tables = {}
    for arch, token in seccomp.AUDIT_ARCH.items():
        tables[arch] = {ctypes.string_at(name).decode(): nr
                        for nr in range(1024) if (name := resolve(token, nr))}
    return tables


def _loaded_path(soname: str) -> str:
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if os.path.basename(path).startswith(soname):
                return os.path.realpath(path)
    raise OSError(f"{soname} is not mapped")


# ---- installing the guard ----

def install(program: bytes) -> None:
    """Put `program` (struct sock_filter[]) on the calling thread; its children inherit it.
    Needs CAP_SYS_ADMIN (no no_new_privs: setuid programs in the container keep working)."""
    import _ctypes
    buf = _filter_type(len(program)).from_buffer_copy(program)
    fprog = (len(program) // 8).to_bytes(2, "little") + bytes(6) + \
        _ctypes.addressof(buf).to_bytes(8, "little")
    libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, fprog)


def _filter_type(size: int):
    import _ctypes

    class _Char(_ctypes._SimpleCData):
        _type_ = "c"
    return type("_Filter", (_ctypes.Array,), {"_type_": _Char, "_length_": size})


def call_guarded(program: bytes | None, fn, *args):
    """`fn(*args)` on a helper thread that first installs `program` (or here, if None)."""
    if program is None:
        return fn(*args)
    import _thread
    done = _thread.allocate_lock()
    done.acquire()
    outcome: list = []

    def body():
        try:
            install(program)
            outcome.append((True, fn(*args)))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append((False, exc))
        finally:
            done.release()
    _thread.start_new_thread(body, ())
    done.acquire()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def preexec(program: bytes | None):
    """A subprocess `preexec_fn` installing `program` in the child, or None."""
    if program is None:
        return None
    return lambda: install(program)


def from_spec(spec: dict) -> bytes | None:
    """The guard a container's config.json asks for (None: Docker's allowlist form)."""
    from .spec import GUARD_ANNOTATION
    value = (spec.get("annotations") or {}).get(GUARD_ANNOTATION)
    return bytes.fromhex(value) if value else None


def from_bundle(bundle: Path) -> bytes | None:
    try:
        return from_spec(jsontext.loads((Path(bundle) / "config.json").read_bytes()))
    except (OSError, ValueError):
        return None
