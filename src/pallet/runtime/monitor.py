"""conmon as the per-container monitor: stdio, logs and the exit code outlive the CLI.

Owns: starting conmon (which runs ``runc create``), the sync/start pipe protocol, and
the files conmon keeps. A container service drives a container like this::

    mon = Monitor(Runc(paths.runc_root), exit_dir=runroot/"exits")
    pid = mon.create(cid, bundle, log_path=bundle/"ctr.log", exit_command=[...])  # created
    sock = attach.connect(attach_path(bundle))    # optional, before start: no output lost
    mon.start(cid)                                # runc start: the process runs
    code = mon.wait_exit(cid)                     # 0..255; 128+N when killed by signal N
    mon.delete(cid)                               # runc delete + monitor files

Files (bundle = the container's userdata dir holding config.json):
    bundle/conmon.pid        pid of the conmon process (``-P``)
    bundle/pidfile           pid of the container's process (runc ``--pid-file``)
    bundle/attach            conmon's SEQPACKET attach socket (``--full-attach``: see
                             `attach_path`)
    bundle/ctl, bundle/winsz conmon's control fifos (`attach.resize` writes ctl)
    bundle/conmon.err        conmon's own stderr before it daemonizes
    exit_dir/<id>            the exit code, written by conmon when the process ends
    log_path                 k8s-file log (`pallet.runtime.logs` reads it)

Sync protocol (conmon 2.1, ``--api-version 1``): conmon blocks reading _OCI_STARTPIPE
until we write a byte, forks (the first conmon exits after writing -P), runs ``runc
create`` and writes ``{"data": PID}`` to _OCI_SYNCPIPE, or ``{"data": -1, "message":
runc's stderr}`` on failure, which `runc.translate_error` turns into Docker's error.
Exit codes and exit commands (``--exit-command``; the service passes ``pallet --root R
--runroot RR container cleanup ID`` for ``--rm`` and restart policies) are conmon's.
"""
from __future__ import annotations

import os
import select
import time
from pathlib import Path

from .. import jsontext, libc
from pallet.errors import PalletError, Unavailable
from pallet.runtime.cgroups import prime_attach
from pallet.runtime.runc import Runc, alive, translate_error

CONMON = "/usr/bin/conmon"
SYNC_TIMEOUT = 60.0


def attach_path(bundle: Path) -> Path:
    """Where conmon listens for attach connections: in the bundle itself.

    conmon is started with ``--full-attach``. Without it, conmon binds through a symlink
    ``<socket dir>/<id>`` to the bundle and, when that symlink's path is exactly 107 bytes
    long, silently names it one character short (conmon's ``socket_parent_dir``): with a
    35-character --runroot every attach then missed the socket. Both sides reach the
    socket through ``/proc/self/fd/N/attach`` of its directory, so sun_path's 108 bytes
    never limit the bundle's path.
    """
    return Path(bundle) / "attach"


class Monitor:
    """Starts containers under conmon and reads what conmon leaves behind."""

    def __init__(self, runc: Runc, exit_dir: Path, conmon: str = CONMON):
        self.runc = runc
        self.exit_dir = Path(exit_dir)
        self.conmon = conmon

    def exit_path(self, container_id: str) -> Path:
        return self.exit_dir / container_id

    def conmon_argv(self, container_id: str, bundle: Path, log_path: Path, *,
                    name: str | None, terminal: bool, stdin: bool,
                    exit_command: list[str] | None, log_size_max: int | None,
                    log_driver: str = "k8s-file") -> list[str]:
        runtime = self.runc.binary
        if not os.access(runtime, os.X_OK):
            raise Unavailable(f"runc not found: {self.runc.binary}")
        argv = [self.conmon, "--api-version", "1", "-c", container_id, "-u", container_id,
                "-n", name or container_id, "-r", runtime, "-b", str(bundle),
                "-p", str(bundle / "pidfile"), "-P", str(bundle / "conmon.pid"),
                "-l", f"{log_driver}:{log_path}", "--exit-dir", str(self.exit_dir),
                "--full-attach",  # see attach_path
                "--runtime-arg", f"--root={self.runc.root}",
                "--runtime-arg", "--log-format=json",
                # conmon fsyncs the log when the container exits, a journal commit of a few
                # ms on every exit; Docker's json-file logger does not sync either
                "--no-sync-log"]
        if terminal:
            argv.append("-t")
        if stdin:
            argv.append("-i")
            if terminal:  # Docker never closes a terminal's stdin when an attach ends, so
                argv.append("--leave-stdin-open")  # one can detach (ctrl-p,ctrl-q) and come back
        if log_size_max:
            argv += ["--log-size-max", str(log_size_max)]
        if exit_command:
            argv += ["--exit-command", exit_command[0]]
            for arg in exit_command[1:]:
                argv += ["--exit-command-arg", arg]
        return argv

    def create(self, container_id: str, bundle: Path, log_path: Path, *,
               name: str | None = None, terminal: bool = False, stdin: bool = False,
               exit_command: list[str] | None = None, log_size_max: int | None = None,
               guard: bytes | None = None, before_create=None, while_creating=None,
               log_driver: str = "k8s-file") -> int:
        """Start conmon, which runs ``runc create``; returns the container's pid.

        `before_create()`, if given, runs once conmon is started but before it is let go
        (it waits on the start pipe before running runc): the caller can write the bundle's
        config.json there while conmon loads (~4 ms); if it raises, conmon is killed.
        `while_creating()`, if given, runs while runc creates the container (~45 ms that
        the caller would otherwise spend waiting on the other CPU).

        `guard`: the bundle's seccomp guard filter (`syscall_guard`), put under conmon and so
        under runc and the container.

        The container is then in runc state ``created``; `start` runs its process.
        Raises ContainerCommandError (126/127) when the command cannot be executed.
        """
        bundle = Path(bundle)
        for d in (self.exit_dir, Path(log_path).parent):
            d.mkdir(parents=True, exist_ok=True)
        self.exit_path(container_id).unlink(missing_ok=True)
        argv = self.conmon_argv(container_id, bundle, Path(log_path), name=name,
                                terminal=terminal, stdin=stdin, exit_command=exit_command,
                                log_size_max=log_size_max, log_driver=log_driver)
        sync_r, sync_w = os.pipe()
        start_r, start_w = os.pipe()
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
               "_OCI_SYNCPIPE": str(sync_w), "_OCI_STARTPIPE": str(start_r),
               # symbols bound before conmon forks its long-lived half, which then never
               # faults the dynamic linker's pages in: 1.9 MB resident instead of 2.4 MB
               "LD_BIND_NOW": "1"}
        try:
            if guard is None:
                pid = _spawn(argv, env, (sync_w, start_r), bundle / "conmon.err")
            else:
                from .syscall_guard import call_guarded
                pid = call_guarded(guard, _spawn, argv, env, (sync_w, start_r), bundle / "conmon.err")
            os.close(sync_w)
            os.close(start_r)
            sync_w = start_r = -1
            if before_create is not None:
                _unless_raises(before_create, pid)
            prime_attach()           # runc's cgroup join then waits less (see there)
            os.write(start_w, b"0")  # here a caller could first move conmon into a cgroup
            os.waitpid(pid, 0)       # the first conmon exits once it has forked
            if while_creating is not None:
                while_creating()
            message = _read_sync(sync_r, SYNC_TIMEOUT)
        finally:
            for fd in (sync_r, sync_w, start_r, start_w):
                if fd >= 0:
                    os.close(fd)
        if message is None:
            raise PalletError(f"conmon failed for {container_id}: "
                              f"{_tail(bundle / 'conmon.err') or 'no sync message'}")
        pid = int(message.get("data", message.get("pid", -1)))
        if pid <= 0:
            raise translate_error(message.get("message", ""), container_id, "create")
        return pid

    def start(self, container_id: str, pid: int | None = None, fifo_fd: int | None = None) -> None:
        """Let the created container's process run (`pid`, from `create`, saves a runc exec;
        `fifo_fd` from `Runc.open_exec_fifo` during the create)."""
        self.runc.start(container_id, pid, fifo_fd)

    def conmon_pid(self, bundle: Path) -> int | None:
        try:
            return int((Path(bundle) / "conmon.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def exit_code(self, container_id: str) -> int | None:
        """The exit code conmon recorded, or None while the process runs."""
        try:
            return int(self.exit_path(container_id).read_text().strip())
        except (OSError, ValueError):
            return None

    def wait_exit(self, container_id: str, bundle: Path | None = None,
                  timeout: float | None = None) -> int:
        """Block until conmon records the exit code; TimeoutError after `timeout` seconds.

        Given `bundle`, a conmon that died without writing one is an error, not a hang.
        Not inotify on the exit dir: closing an inotify instance waits for an SRCU grace
        period (fsnotify's mark reaper), 8-18 ms here, longer than any poll it would save.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0001  # conmon closes the attach socket just before it writes the file
        process = None  # a pidfd of the container's process, once a short wait did not do
        try:
            while True:
                code = self.exit_code(container_id)
                if code is not None:
                    return code
                if bundle is not None and not alive(self.conmon_pid(bundle)):
                    code = self.exit_code(container_id)
                    if code is not None:
                        return code
                    raise PalletError(f"container {container_id}: monitor exited without "
                                      "recording an exit code")
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"container {container_id} still running")
                if process is None and delay >= 0.01 and bundle is not None:
                    process = _pidfd(Path(bundle) / "pidfile")
                if process is not None and process >= 0:
                    # asleep until the process ends (conmon then writes the file at once),
                    # not up to 0.1 s past it; still a look every 0.1 s (pid reused, stop)
                    if select.select([process], [], [], min(delay, 0.1))[0]:
                        os.close(process)
                        process, delay = -1, 0.0001
                        continue
                else:
                    time.sleep(delay)
                delay = min(delay * 1.5, 0.1)
        finally:
            if process is not None and process >= 0:
                os.close(process)

    def delete(self, container_id: str, force: bool = False, keep_exit: bool = False) -> None:
        """``runc delete`` and forget the exit file (unless `keep_exit`: a waiter may still
        need it); NotFound if runc has no such container."""
        try:
            self.runc.delete(container_id, force=force)
        finally:
            if not keep_exit:
                self.exit_path(container_id).unlink(missing_ok=True)


def _pidfd(pidfile: Path) -> int:
    """A pidfd of the process `pidfile` names (readable once it has ended); -1 if there is
    none to be had (no file, the process gone, an old kernel)."""
    try:
        return os.pidfd_open(int(pidfile.read_text().strip()))
    except (OSError, ValueError, AttributeError):
        return -1


def _unless_raises(prepare, conmon_pid: int) -> None:
    """Run `prepare()`; if it fails, the waiting conmon must not go on to run runc (EOF on
    its start pipe would let it), so it is killed and reaped first."""
    try:
        prepare()
    except BaseException:
        os.kill(conmon_pid, 9)
        os.waitpid(conmon_pid, 0)
        raise


def _spawn(argv: list[str], env: dict, pass_fds: tuple[int, ...], stderr: Path) -> int:
    """Start conmon in a session of its own, in the bundle (`stderr`'s directory: conmon
    writes its `oom` file into its working directory), stdio on /dev/null and `stderr`, with
    `pass_fds` inherited. posix_spawn rather than subprocess: that import is ~3 ms of every
    `run`."""
    for fd in pass_fds:
        os.set_inheritable(fd, True)
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, str(stderr), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
    try:
        with libc.working_directory(stderr.parent):
            return os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True)
    except OSError as exc:
        raise Unavailable(f"cannot start {argv[0]}: {exc.strerror}") from exc


def _read_sync(fd: int, timeout: float) -> dict | None:
    """The first JSON line conmon writes on the sync pipe; None on EOF."""
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise PalletError("timed out waiting for conmon")
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    line = data.split(b"\n", 1)[0].strip()
    if not line:
        return None
    try:
        return jsontext.loads(line)
    except ValueError as exc:
        raise PalletError(f"conmon sent an unreadable sync message: {line[:200]!r}") from exc


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip().splitlines()[-1]
    except (OSError, IndexError):
        return ""
