"""The few libc calls the stdlib's `os` lacks: mount(2), umount2(2), inotify(7) (init,
add and remove a watch) and raw syscall(2).

Owns the binding. It goes through `_ctypes`, the C half of ctypes, because `import ctypes`
costs ~3 ms at every CLI start (it builds all of ctypes' types) and these calls need only
one function-pointer type returning a C int, built here the way ctypes/__init__.py builds
its own. Arguments are bytes (char *) or Python ints (int). Each call raises OSError with
errno on failure, like `os` does.
"""
from __future__ import annotations

import _ctypes
import os

MNT_DETACH = 2
MS_RDONLY = 1


class _CInt(_ctypes._SimpleCData):
    _type_ = "i"


class _Function(_ctypes.CFuncPtr):
    _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
    _restype_ = _CInt


class _Process:
    """The running program's symbols (libc among them): what CDLL(None) opens."""
    _handle = _ctypes.dlopen(None, os.RTLD_NOW)


_FUNCTIONS: dict[str, _Function] = {}


def _call(name: str, *args) -> int:
    fn = _FUNCTIONS.get(name)
    if fn is None:
        fn = _FUNCTIONS[name] = _Function((name, _Process))
    _ctypes.set_errno(0)
    rc = fn(*args)
    if rc == -1:
        err = _ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return rc


def mount(source: str, target: str, fstype: str, flags: int = 0, data: str = "") -> None:
    _call("mount", source.encode(), target.encode(), fstype.encode(), flags, data.encode())


def umount2(target: str, flags: int = 0) -> None:
    _call("umount2", target.encode(), flags)


IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC


def inotify_init() -> int:
    """A new non-blocking, close-on-exec inotify fd (the caller closes it)."""
    return _call("inotify_init1", IN_NONBLOCK | IN_CLOEXEC)


def inotify_add_watch(fd: int, path: str, mask: int) -> int:
    """Watch `path` on inotify `fd`; the watch descriptor events name it by."""
    return _call("inotify_add_watch", fd, path.encode(), mask)


def inotify_rm_watch(fd: int, wd: int) -> None:
    _call("inotify_rm_watch", fd, wd)


def syscall(number: int, *args: int) -> int:
    return _call("syscall", number, *args)


class working_directory:
    """`with working_directory(path):` the process works in `path` for the block, one thread
    at a time (the working directory is the whole process's). For the two calls that need
    one: mount(2) with relative lower dirs, and spawning conmon, which writes its `oom`
    file into its working directory (podman starts it in the bundle for that reason).
    The old directory is kept open, not named, so a deleted one is returned to as well.
    A class, not @contextmanager: contextlib costs every `run` ~0.4 ms."""
    _lock = None

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        if working_directory._lock is None:
            import _thread
            working_directory._lock = _thread.allocate_lock()
        working_directory._lock.acquire()
        try:
            self.old = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            os.chdir(self.path)
        except BaseException:
            working_directory._lock.release()
            raise
        return self

    def __exit__(self, *exc) -> bool:
        try:
            os.fchdir(self.old)
        finally:
            os.close(self.old)
            working_directory._lock.release()
        return False
