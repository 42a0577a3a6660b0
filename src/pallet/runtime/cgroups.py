"""A container's cgroup, read directly: usage for `stats`, processes for `top`, OOM kills.

Owns: finding a container's cgroup directories on a v1 (or hybrid) host, where each
controller is its own hierarchy (/sys/fs/cgroup/<controller>/<cgroupsPath>), and on a
v2 host, where one directory holds every file (/sys/fs/cgroup/<cgroupsPath>); and
parsing the files into a `Sample`. Reading files costs microseconds where ``runc
events --stats`` costs a fork per container, which is what keeps ``stats`` of 50
containers fast.

Writes (``docker update``) go through ``runc update``, not here: runc orders the v1
memory/memsw writes and keeps its state.json in step with what the cgroup holds.
The cgroup exists from ``runc create`` until ``runc delete``, so OOM kills must be read
before the delete (`oom_killed`). Must not import anything above the runtime layer.
"""
from __future__ import annotations

import os
from ..record import dataclass
from pathlib import Path

MOUNT = Path("/sys/fs/cgroup")
UNLIMITED = 1 << 62   # v1 reports "no limit" as 9223372036854771712; anything above this


@dataclass(frozen=True)
class Sample:
    """One reading of a container's cgroup; byte counts are totals since it started."""
    cpu_ns: int = 0            # CPU time used by all its processes
    memory_usage: int = 0      # usage minus the inactive page cache, as Docker shows it
    memory_limit: int = 0      # 0: no limit of its own
    pids: int = 0
    block_read: int = 0
    block_write: int = 0


def is_v2(mount: Path = MOUNT) -> bool:
    """A unified host: /sys/fs/cgroup itself is cgroup2 (hybrid hosts keep it at unified/)."""
    return (mount / "cgroup.controllers").exists()


class Cgroup:
    """The cgroup runc made for ``cgroupsPath`` (e.g. ``/pallet/<id>``)."""

    def __init__(self, cgroups_path: str, mount: Path = MOUNT):
        self.rel = cgroups_path.strip("/")
        self.mount = mount
        self.v2 = is_v2(mount)

    def dir(self, controller: str) -> Path:
        return self.mount / self.rel if self.v2 else self.mount / controller / self.rel

    def _read(self, controller: str, name: str) -> str | None:
        try:
            return (self.dir(controller) / name).read_text()
        except OSError:
            return None

    def _int(self, controller: str, name: str) -> int:
        text = self._read(controller, name)
        try:
            return int(text.strip()) if text else 0
        except ValueError:
            return 0  # "max"

    def exists(self) -> bool:
        return self.dir("memory").is_dir()

    def frozen(self) -> bool | None:
        """Whether the freezer holds the container (what ``runc state`` calls paused); None
        when it has no cgroup."""
        if self.v2:
            text = self._read("", "cgroup.freeze")
            return None if text is None else text.strip() == "1"
        text = self._read("freezer", "freezer.state")
        return None if text is None else text.strip() in ("FROZEN", "FREEZING")

    def procs(self) -> list[int]:
        """Every process in the container (the pids controller sees all of them)."""
        text = self._read("pids", "cgroup.procs") or self._read("memory", "cgroup.procs") or ""
        return [int(p) for p in text.split()]

    def sample(self) -> Sample:
        return self._sample_v2() if self.v2 else self._sample_v1()

    def _sample_v1(self) -> Sample:
        mem = flat_keyed(self._read("memory", "memory.stat") or "")
        usage = self._int("memory", "memory.usage_in_bytes")
        limit = self._int("memory", "memory.limit_in_bytes")
        read, write = blkio_v1(self._read("blkio", "blkio.throttle.io_service_bytes") or "")
        return Sample(cpu_ns=self._int("cpuacct", "cpuacct.usage"),
                      memory_usage=max(0, usage - mem.get("total_inactive_file", 0)),
                      memory_limit=0 if limit >= UNLIMITED else limit,
                      pids=self._int("pids", "pids.current"), block_read=read, block_write=write)

    def _sample_v2(self) -> Sample:
        mem = flat_keyed(self._read("memory", "memory.stat") or "")
        cpu = flat_keyed(self._read("cpu", "cpu.stat") or "")
        read, write = io_stat_v2(self._read("io", "io.stat") or "")
        usage = self._int("memory", "memory.current")
        return Sample(cpu_ns=cpu.get("usage_usec", 0) * 1000,
                      memory_usage=max(0, usage - mem.get("inactive_file", 0)),
                      memory_limit=self._int("memory", "memory.max"),
                      pids=self._int("pids", "pids.current"), block_read=read, block_write=write)

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer took from this cgroup."""
        if self.v2:
            return flat_keyed(self._read("memory", "memory.events") or "").get("oom_kill", 0)
        control = flat_keyed(self._read("memory", "memory.oom_control") or "")
        if "oom_kill" in control:
            return control["oom_kill"]
        # kernels before 4.13 have no counter: hitting the limit is the best evidence left
        return 1 if self._int("memory", "memory.failcnt") and control.get("under_oom") else 0


def oom_killed(cgroups_path: str) -> bool:
    return Cgroup(cgroups_path).oom_kills() > 0


def flat_keyed(text: str) -> dict[str, int]:
    """``key value`` lines (memory.stat, cpu.stat, memory.events, memory.oom_control)."""
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        try:
            out[key] = int(value.strip())
        except ValueError:
            continue
    return out


def blkio_v1(text: str) -> tuple[int, int]:
    """blkio.throttle.io_service_bytes: ``8:0 Read 4096`` lines -> (read, write) bytes."""
    read = write = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in ("Read", "Write"):
            if parts[1] == "Read":
                read += int(parts[2])
            else:
                write += int(parts[2])
    return read, write


def io_stat_v2(text: str) -> tuple[int, int]:
    """io.stat: ``8:0 rbytes=4096 wbytes=0 ...`` lines -> (read, write) bytes."""
    read = write = 0
    for line in text.splitlines():
        for field in line.split()[1:]:
            key, _, value = field.partition("=")
            if key == "rbytes":
                read += int(value)
            elif key == "wbytes":
                write += int(value)
    return read, write


def host_memory() -> int:
    """MemTotal: the limit ``stats`` shows for a container without one."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def net_io(pid: int) -> tuple[int, int]:
    """(received, sent) bytes on the container's interfaces but loopback, via its /proc."""
    rx = tx = 0
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            lines = f.read().splitlines()[2:]
    except OSError:
        return 0, 0
    for line in lines:
        name, _, counters = line.partition(":")
        fields = counters.split()
        if name.strip() == "lo" or len(fields) < 9:
            continue
        rx += int(fields[0])
        tx += int(fields[8])
    return rx, tx


def prime_attach() -> None:
    """Start, on a thread of its own, the RCU grace period the next cgroup join would wait for.

    Moving a process into a cgroup (a write to ``cgroup.procs``, which runc does for every
    container it creates and every process it execs) takes the kernel's global
    ``cgroup_threadgroup_rwsem`` for writing; when nobody has done so in the last few ms,
    that first waits for an RCU grace period: 4-8 ms here (HZ=250), alone on the critical
    path of every container start, in Docker and Podman alike. The semaphore stays in its
    slow (writer-friendly) mode for one more grace period after a writer leaves, and a
    writer arriving during someone else's wait only waits for the rest of it. So a no-op
    join of our own process into the cgroup it is already in, made just before runc runs,
    overlaps that wait with runc's own start-up (~7 ms before it joins) instead of adding
    it. Best effort: where the file cannot be written, nothing changes.
    """
    import _thread
    try:
        _thread.start_new_thread(touch_own_cgroup, ())
    except RuntimeError:
        pass


def touch_own_cgroup() -> bool:
    """Write "0" (the writer's own process) to the cgroup.procs of the cgroup this process
    is already in: no process moves, but the kernel takes the attach lock. False if it
    could not (no cgroupfs, read-only, not root)."""
    target = own_procs_file()
    if target is None:
        return False
    try:
        fd = os.open(target, os.O_WRONLY)
    except OSError:
        return False
    try:
        os.write(fd, b"0")
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def own_procs_file(self_cgroup: str | None = None, mount: Path = MOUNT) -> str | None:
    """The cgroup.procs file of this process's own cgroup: in the pids hierarchy on a v1 or
    hybrid host (any hierarchy would do: the lock is global), the unified one on v2."""
    if self_cgroup is None:
        try:
            with open("/proc/self/cgroup") as f:
                self_cgroup = f.read()
        except OSError:
            return None
    for line in self_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "pids":
            return os.path.join(mount, "pids", path.lstrip("/"), "cgroup.procs")
        if controllers == "" and is_v2(mount):
            return os.path.join(mount, path.lstrip("/"), "cgroup.procs")
    return None


def remove_leftovers(cgroups_path: str, mount: Path = MOUNT) -> None:
    """rmdir a container's empty cgroup in every hierarchy: what runc's state would have
    let `runc delete` do, for a container whose state a wiped runroot lost."""
    try:
        hierarchies = os.listdir(mount)  # not Path.glob: that compiles a regex, ~6 ms with `re`
    except OSError:
        return
    for hierarchy in hierarchies:
        try:
            os.rmdir(os.path.join(mount, hierarchy, cgroups_path.strip("/")))
        except OSError:
            pass  # still in use, or gone, or never made there
