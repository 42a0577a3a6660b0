"""The runc binary, wrapped: one method per runc verb, runc's stderr turned into pallet errors.

Owns: invoking ``runc --root ROOT ...`` and `translate_error`, the one place that reads
runc's error text. Every container pallet runs lives under one runc ``--root`` (default
``<runroot>/runc``); tests give each run its own root so they never meet a real install.

Error mapping (runc 1.1 wording on the left):
    container does not exist / not exist   -> NotFound("No such container: ID")
    container with id exists               -> AlreadyExists
    container not running / is stopped     -> Conflict("Container ID is not running")
    container not paused                   -> Conflict("Container ID is not paused")
    not stopped (delete) / has stopped (start) -> Conflict(runc's message)
    executable file not found / no such file -> ContainerCommandError(..., 127)
    permission denied (exec of the command)  -> ContainerCommandError(..., 126)
    anything else                            -> PalletError(runc's message)
Must not import the monitor (conmon) or anything above the runtime layer.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

from .. import jsontext
from ..record import dataclass

from pallet.errors import (AlreadyExists, Conflict, ContainerCommandError, NotFound,
                           PalletError, Unavailable)

RUNC = "runc"
_LOGRUS_MSG = r'level=\w+ msg="((?:[^"\\]|\\.)*)"'


@dataclass(frozen=True)
class State:
    """``runc state``: status is created, running, paused or stopped; pid 0 once stopped."""
    id: str
    status: str
    pid: int
    bundle: str
    created: str


def runc_message(stderr: str) -> str:
    """runc's error, without logrus's ``time=... level=error msg="..."`` wrapping."""
    text = stderr.strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    for line in reversed(lines):
        if line.startswith("{"):
            try:
                return jsontext.loads(line).get("msg", line)
            except ValueError:
                pass
        found = re.search(_LOGRUS_MSG, line)
        if found:
            return found.group(1).replace('\\"', '"').replace("\\\\", "\\")
    return lines[-1] if lines else text


def command_error(message: str, verb: str = "create") -> ContainerCommandError | None:
    """Docker's error for a command that could not be executed, or None."""
    if "executable file not found" in message or "no such file or directory" in message:
        code = 127
    elif "permission denied" in message and "exec" in message:
        code = 126
    else:
        return None
    if verb == "exec":
        return ContainerCommandError(f"OCI runtime exec failed: {message}: unknown", code)
    return ContainerCommandError(
        "failed to create task for container: failed to create shim task: "
        f"OCI runtime create failed: {message}: unknown", code)


def translate_error(stderr: str, container_id: str, verb: str) -> PalletError:
    """The one seam where runc's stderr becomes a pallet error."""
    message = runc_message(stderr)
    if "does not exist" in message or "not exist" in message:
        return NotFound(f"No such container: {container_id}")
    if "container with id exists" in message or "already exists" in message:
        return AlreadyExists(f"container {container_id} already exists")
    if ("not running" in message or "container is stopped" in message
            or "exec in a stopped container" in message):
        return Conflict(f"Container {container_id} is not running")
    if "not paused" in message:
        return Conflict(f"Container {container_id} is not paused")
    if "not stopped" in message or "has stopped" in message:
        return Conflict(message)
    if verb in ("create", "run", "exec"):
        found = command_error(message, verb)
        if found:
            return found
    if verb == "exec":  # the process could not be started: Docker's 126 and words
        return ContainerCommandError(f"OCI runtime exec failed: {message}: unknown", 126)
    return PalletError(f"runc {verb} {container_id}: {message}")


class Runc:
    """runc under one state root; every method raises pallet errors only."""

    def __init__(self, root: Path, binary: str = RUNC):
        self.root = Path(root)
        self.binary = which(binary) or binary
        # runc's own start/delete handshake is spoken directly (see `start`, `delete`):
        # each runc process costs ~8 ms, a third of what `run --rm` may take
        self.native = os.path.basename(self.binary) == "runc"

    def argv(self, *args: str) -> list[str]:
        return [self.binary, "--root", str(self.root), *args]

    def _run(self, verb: str, container_id: str, *args: str, timeout: float = 60) -> str:
        import subprocess
        try:
            done = subprocess.run(self.argv(verb, *args), capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except FileNotFoundError as exc:
            raise Unavailable(f"runc not found: {self.binary}") from exc
        except subprocess.TimeoutExpired as exc:
            raise PalletError(f"runc {verb} {container_id}: timed out") from exc
        if done.returncode != 0:
            raise translate_error(done.stderr, container_id, verb)
        return done.stdout

    def state(self, container_id: str) -> State:
        doc = jsontext.loads(self._run("state", container_id, container_id))
        return State(doc["id"], doc["status"], doc.get("pid", 0), doc.get("bundle", ""),
                     doc.get("created", ""))

    def list(self) -> list[State]:
        out = self._run("list", "", "--format", "json")
        return [State(d["id"], d["status"], d.get("pid", 0), d.get("bundle", ""),
                      d.get("created", "")) for d in (jsontext.loads(out or "null") or [])]

    def start(self, container_id: str, pid: int | None = None, fifo_fd: int | None = None) -> None:
        """``runc start``. Given the init's `pid`, done as runc does it: a created
        container's init blocks writing one byte to ``ROOT/ID/exec.fifo``; reading it lets
        the init exec the process, and the fifo's removal marks the container running.
        `fifo_fd` is the fifo opened beforehand (`open_exec_fifo`); it is closed here."""
        fifo = self.root / container_id / "exec.fifo"
        if not (self.native and pid and _read_exec_fifo(fifo, pid, fifo_fd)):
            self._run("start", container_id, container_id)

    def open_exec_fifo(self, container_id: str, wait: float = 0.02) -> int | None:
        """The exec fifo opened for reading while `runc create` runs (it makes the fifo
        first, before the init): the init, which opens its end only once the container is
        set up, then execs the process at once instead of when `start` comes, as `runc
        run` does. None for other runtimes, or if the fifo did not appear within `wait`."""
        if not self.native:
            return None
        fifo = self.root / container_id / "exec.fifo"
        deadline = time.monotonic() + wait
        while True:
            try:
                return os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except FileNotFoundError:
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.0003)

    def delete(self, container_id: str, force: bool = False) -> None:
        if self.native and _delete_stopped(self.root / container_id):
            return
        self._run("delete", container_id, *(["--force"] if force else []), container_id)

    def kill(self, container_id: str, signal: str | int = "KILL", all: bool = False) -> None:
        if self.native and not all and isinstance(signal, int) \
                and _signal_init(self.root / container_id, signal):
            return
        extra = ["--all"] if all else []
        self._run("kill", container_id, *extra, container_id, str(signal))

    def pause(self, container_id: str) -> None:
        self._run("pause", container_id, container_id)

    def resume(self, container_id: str) -> None:
        self._run("resume", container_id, container_id)

    def update(self, container_id: str, resources: dict) -> None:
        """Apply an OCI ``linux.resources`` object (``docker update``)."""
        import subprocess
        done = subprocess.run(self.argv("update", "--resources", "-", container_id),
                              input=jsontext.dumps(resources), capture_output=True, text=True)
        if done.returncode != 0:
            raise translate_error(done.stderr, container_id, "update")

    def exec(self, container_id: str, process: dict, *, detach: bool = False, stdin=None,
             stdout=None, stderr=None, guard: bytes | None = None) -> int:
        """``docker exec``: run `process` (a whole OCI process, `spec.exec_process`) in the
        container; returns the command's exit code.

        The whole process rather than runc's --user/--env flags: those add to the
        container's own process, so its supplementary groups would follow any --user.
        Foreground non-tty exec hands our stdio (or the given files) to the process; with
        ``terminal`` runc makes the pty and relays it to our stdio. A command that cannot
        be run raises ContainerCommandError (126/127) with Docker's message. `guard`: the
        bundle's seccomp guard filter (`syscall_guard.from_bundle`), installed under runc exec.
        """
        files = self._exec_files(container_id, process)
        pid_file, log_file, _ = files
        import subprocess
        gate = _StderrGate(pid_file, stderr)
        try:
            from .syscall_guard import preexec
            from .cgroups import prime_attach
            prime_attach()  # runc exec joins the container's cgroups ~5 ms from now
            code = subprocess.run(self._exec_argv(container_id, files, detach), stdin=stdin,
                                  stdout=stdout, stderr=gate.write_fd,
                                  pass_fds=(), preexec_fn=preexec(guard)).returncode
            gate.close()
            if not pid_file.exists():
                raise translate_error(_read(log_file) or "exec failed", container_id, "exec")
            return code
        finally:
            gate.close()
            for leftover in files:
                leftover.unlink(missing_ok=True)

    def exec_terminal(self, container_id: str, process: dict, *, size: tuple[int, int] | None = None,
                      guard: bytes | None = None):
        """``docker exec -it`` as an attachment (`exec_terminal.ExecTerminal`): runc's
        terminal is a pty pallet holds, so the caller relays it, can detach from it and
        resizes it. `size`: (rows, columns) the terminal starts with."""
        from .cgroups import prime_attach
        from .exec_terminal import ExecTerminal
        files = self._exec_files(container_id, process)
        prime_attach()

        def failure() -> PalletError:
            return translate_error(_read(files[1]) or "exec failed", container_id, "exec")
        return ExecTerminal(self._exec_argv(container_id, files), files, failure, size, guard)

    def _exec_files(self, container_id: str, process: dict) -> tuple[Path, Path, Path]:
        """(pid file, log file, process file) for one exec; the process file written."""
        self.root.mkdir(parents=True, exist_ok=True)
        stem = self.root / f".exec-{container_id}-{os.urandom(6).hex()}"
        pid_file, log_file = stem.with_suffix(".pid"), stem.with_suffix(".log")
        process_file = stem.with_suffix(".json")
        process_file.write_text(jsontext.dumps(process))
        return pid_file, log_file, process_file

    def _exec_argv(self, container_id: str, files, detach: bool = False) -> list[str]:
        pid_file, log_file, process_file = files
        return [self.binary, "--root", str(self.root), "--log", str(log_file), "--log-format", "json",
                "exec", "--pid-file", str(pid_file), "--process", str(process_file),
                *(["--detach"] if detach else []), container_id]


class _StderrGate:
    """Relays the exec'd process's stderr, holding it back until runc wrote the pid file.

    runc repeats its own failure on stderr; until the pid file exists nothing the
    process wrote can be there, so a failed exec prints nothing of runc's and the
    caller shows Docker's message instead.
    """

    def __init__(self, pid_file: Path, target):
        import threading
        self.pid_file = pid_file
        if target is None:
            self.target_fd = 2
        elif isinstance(target, int):
            self.target_fd = target
        else:
            self.target_fd = target.fileno()
        self.read_fd, self.write_fd = os.pipe()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        held = b""
        while chunk := os.read(self.read_fd, 65536):
            if held is not None and not self.pid_file.exists():
                held += chunk
                continue
            if held:
                os.write(self.target_fd, held)
            held = None
            os.write(self.target_fd, chunk)
        if held and self.pid_file.exists():
            os.write(self.target_fd, held)
        os.close(self.read_fd)

    def close(self) -> None:
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1
            # a background child of the command may hold the pipe open: don't hang on it
            self.thread.join(timeout=1.0)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


_FOUND: dict[tuple[str, str], str] = {}


def which(binary: str) -> str | None:
    """The absolute path of `binary` on PATH (shutil.which without importing shutil).
    A binary found is remembered for the process (`run` asks at create and again at start);
    one not found is looked for again next time."""
    if os.sep in binary:
        return binary
    # PATH as os.get_exec_path reads it, without the warnings module that function imports
    path = os.environ.get("PATH", os.defpath)
    found = _FOUND.get((path, binary))
    if found is not None:
        return found
    for d in path.split(os.pathsep):
        candidate = os.path.join(d, binary)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            _FOUND[(path, binary)] = candidate
            return candidate
    return None


def _read_exec_fifo(fifo: Path, pid: int, fd: int | None = None) -> bool:
    """runc start's handshake; False (let runc itself say why) when there is no fifo or
    the init died before writing to it. `fd`: the fifo, already open (and closed here)."""
    import select
    if fd is None:
        try:
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
    try:
        while True:
            if select.select([fd], [], [], 0.05)[0]:
                try:
                    data = os.read(fd, 16)
                except BlockingIOError:
                    continue
                if not data:
                    return False
                break
            if not alive(pid):
                return False
    finally:
        os.close(fd)
    os.unlink(fifo)
    return True


def _delete_stopped(state_dir: Path) -> bool:
    """``runc delete`` of a container whose init has exited: its cgroups and state dir
    go. False (runc must do it) while the init lives or a cgroup still has processes."""
    try:
        with open(state_dir / "state.json", "rb") as f:
            state = jsontext.load(f)
    except (OSError, ValueError):
        return False
    if _same_process(state.get("init_process_pid", 0), state.get("init_process_start", 0)) \
            or state.get("intel_rdt_path"):
        return False
    for path in (state.get("cgroup_paths") or {}).values():
        try:
            os.rmdir(path)
        except FileNotFoundError:
            continue
        except OSError:
            return False
    for name in os.listdir(state_dir):
        os.unlink(state_dir / name)
    os.rmdir(state_dir)
    return True


def _frozen(state: dict) -> bool:
    """Whether the cgroup v1 freezer (or v2's cgroup.freeze) holds the container now."""
    path = (state.get("cgroup_paths") or {}).get("freezer") or (state.get("cgroup_paths") or {}).get("")
    for name in ("freezer.state", "cgroup.freeze"):
        try:
            with open(f"{path}/{name}", "rb") as f:
                return f.read().strip() in (b"FROZEN", b"FREEZING", b"1")
        except (OSError, TypeError):
            continue
    return False


def _signal_init(state_dir: Path, signal: int) -> bool:
    """``runc kill ID SIGNAL`` (without --all) done as runc 1.1 does it: the signal goes to
    the init recorded in state.json if it is still that process. A pidfd pins the process
    between the check and the signal, so a reused pid is never signalled. False (runc must
    answer: not running, no such container) when the init is gone or cannot be pinned, and
    for a SIGKILL to a container sharing the host's pid namespace (runc then kills the
    whole cgroup) or to a paused one (a frozen process dies only once thawed: runc thaws it
    after a SIGKILL)."""
    try:
        with open(state_dir / "state.json", "rb") as f:
            state = jsontext.load(f)
        pid, start = state.get("init_process_pid", 0), state.get("init_process_start", 0)
        if signal == 9 and (_frozen(state) or not any(
                ns.get("type") == "NEWPID" and not ns.get("path")
                for ns in (state.get("config") or {}).get("namespaces") or [])):
            return False
        fd = os.pidfd_open(pid) if pid else -1
    except (OSError, ValueError, AttributeError):
        return False
    if fd < 0:
        return False
    try:
        if not _same_process(pid, start):
            return False
        if signal not in (9, 19):
            _let_handlers_settle(pid, signal)
        import signal as signals
        signals.pidfd_send_signal(fd, signal)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


SETTLE_S = 0.1
EXEC_WAIT_S = 2.0


def _let_handlers_settle(pid: int, signal: int) -> None:
    """A container's init is its pid namespace's init: a signal it neither catches nor
    blocks is dropped. One stopped right after it started (`run -d` then `stop`) may not
    have set its handlers yet (tini blocks the signals it waits for, a shell's trap
    catches them): wait until it catches or blocks `signal`, or until it is SETTLE_S old
    (a process that never does, as `sleep`). While it is still runc's init (named
    `runc:[2:INIT]`: the command is not yet executed, which a loaded host can make last
    well past SETTLE_S) nothing is sent, up to EXEC_WAIT_S: its Go runtime would take a
    SIGTERM and exit 2, and its handlers do not outlive the exec. Forking runc hid this
    window behind ~10 ms of its own start-up."""
    deadline = None
    seen_before_exec = False
    give_up = time.monotonic() + EXEC_WAIT_S
    while True:
        try:
            with open(f"/proc/{pid}/status", "rb") as f:
                fields = dict(line.split(b":", 1) for line in f if b":" in line)
            if fields.get(b"Name", b"").strip().startswith(b"runc:"):
                # runc's init: its Go runtime catches the signal and would exit 2 on it
                seen_before_exec, deadline = True, None  # counted from the exec, once it comes
            else:
                held = int(fields.get(b"SigCgt", b"0").strip(), 16) | int(fields.get(b"SigBlk", b"0").strip(), 16)
                if held >> (signal - 1) & 1:
                    return
                if deadline is None:
                    deadline = time.monotonic() + SETTLE_S - (0 if seen_before_exec else _age(pid))
        except (OSError, ValueError, IndexError):
            return
        now = time.monotonic()
        if (deadline is not None and now >= deadline) or now >= give_up:
            return
        time.sleep(0.002)


def _age(pid: int) -> float:
    """Seconds since `pid` started (its fork: runc's init, before the exec)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    started = int(stat[stat.rfind(b")") + 2:].split()[19]) / os.sysconf("SC_CLK_TCK")
    with open("/proc/uptime", "rb") as f:
        return float(f.read().split()[0]) - started


def _same_process(pid: int, start: int) -> bool:
    """Whether `pid` is still the process that started at `start` (field 22 of its stat)."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    fields = stat[stat.rfind(b")") + 2:].split()
    return int(fields[19]) == start and fields[0] != b"Z"


def alive(pid: int | None) -> bool:
    """Whether process `pid` exists (a process of another user counts)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
