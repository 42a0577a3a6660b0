"""The engines a benchmark compares: pallet, podman, docker (a private dockerd) and bare runc.

Each engine owns one directory under the benchmark's work dir and must leave nothing
behind after close(): no containers, mounts, daemons or processes. `argv(...)` gives a
CLI invocation; `run_flags` are the flags every `run`/`create` needs on this machine
(`--network none`; podman's ulimits). An engine whose binary is missing is not built:
`available(work)` returns only what is installed, and `skipped` names the rest.

dockerd is started with networking disabled and on a private socket, because other
engineers run networking tests on this machine and a normal dockerd deletes bridges and
sets the FORWARD policy to DROP.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

from harness import PALLET, du_bytes, pids_named, unmount_under


class Engine:
    name = ""
    rm_force = ["rm", "-f"]
    monitor_comm = ""          # the per-container engine-side process
    run_flags: list[str] = ["--network", "none"]

    def __init__(self, work: Path):
        self.dir = work / self.name
        self.dir.mkdir(parents=True, exist_ok=True)

    def argv(self, *args: str) -> list[str]:
        raise NotImplementedError

    def setup(self, busybox_tar: Path) -> None:
        subprocess.run(self.argv("import", str(busybox_tar), "busybox:latest"), check=True,
                       stdout=subprocess.DEVNULL)

    def run_rm(self, *cmd: str) -> list[str]:
        return self.argv("run", "--rm", *self.run_flags, "busybox", *(cmd or ("true",)))

    def run_detached(self, *cmd: str) -> list[str]:
        return self.argv("run", "-d", *self.run_flags, "busybox", *cmd)

    def create(self, *cmd: str) -> list[str]:
        return self.argv("create", *self.run_flags, "busybox", *(cmd or ("true",)))

    def monitor_pids(self) -> list[int]:
        return pids_named(self.monitor_comm, under=str(self.dir))

    def daemon_pids(self) -> list[int]:
        return []

    def disk_used(self) -> int:
        return du_bytes(self.dir)

    def remove_all(self) -> None:
        ids = subprocess.run(self.argv("ps", "-aq"), capture_output=True, text=True).stdout.split()
        for i in range(0, len(ids), 50):
            subprocess.run(self.argv(*self.rm_force, *ids[i:i + 50]), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)

    def close(self) -> None:
        self.remove_all()
        unmount_under(self.dir)


class Pallet(Engine):
    name = "pallet"
    monitor_comm = "conmon"

    def argv(self, *args: str) -> list[str]:
        return PALLET + ["--root", str(self.dir / "root"), "--runroot", str(self.dir / "run"), *args]

    def close(self) -> None:
        super().close()
        # networks' bridges outlive their containers (as docker0): the store's reset ends them
        subprocess.run(self.argv("system", "reset", "-f"), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


class Podman(Engine):
    name = "podman"
    monitor_comm = "conmon"
    run_flags = ["--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
    rm_force = ["rm", "-f", "--time", "0"]  # podman's rm -f stops with SIGTERM and a 10 s grace

    def argv(self, *args: str) -> list[str]:
        return ["podman", "--root", str(self.dir / "root"), "--runroot", str(self.dir / "run"),
                "--tmpdir", str(self.dir / "tmp"), "--runtime", "runc",
                "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                "--storage-driver", "overlay", *args]

    def close(self) -> None:
        super().close()
        subprocess.run(self.argv("system", "reset", "--force"), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        unmount_under(self.dir)


class Docker(Engine):
    """A private dockerd (with its own containerd) that lives only for the benchmark."""
    name = "docker"
    monitor_comm = "containerd-shim"   # comm is truncated to 15 characters

    def __init__(self, work: Path):
        super().__init__(work)
        self.exec_root = Path(f"/run/pb-{uuid.uuid4().hex[:8]}")  # short: socket paths ≤ 108
        self.sock = self.exec_root / "docker.sock"
        self.daemon: subprocess.Popen | None = None

    def argv(self, *args: str) -> list[str]:
        return ["docker", "-H", f"unix://{self.sock}", *args]

    network_flags = ["--iptables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none"]

    def setup(self, busybox_tar: Path) -> None:
        self.exec_root.mkdir(parents=True)
        log = open(self.dir / "dockerd.log", "wb")
        self.daemon = subprocess.Popen(
            ["dockerd", *self.network_flags, "--data-root", str(self.dir / "data"),
             "--exec-root", str(self.exec_root), "--pidfile", str(self.exec_root / "dockerd.pid"),
             "-H", f"unix://{self.sock}"],
            stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 30
        while subprocess.run(self.argv("version"), capture_output=True).returncode != 0:
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dockerd did not start; see {self.dir / 'dockerd.log'}")
            time.sleep(0.2)
        super().setup(busybox_tar)

    def monitor_pids(self) -> list[int]:
        return pids_named(self.monitor_comm, under=str(self.exec_root))

    def daemon_pids(self) -> list[int]:
        return pids_named("dockerd", under=str(self.exec_root)) + \
            pids_named("containerd", under=str(self.exec_root))

    def close(self) -> None:
        if self.daemon and self.daemon.poll() is None:
            super().close()
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.daemon.pid, signal.SIGKILL)
                self.daemon.wait()
        unmount_under(self.dir)
        unmount_under(self.exec_root)
        shutil.rmtree(self.exec_root, ignore_errors=True)


class Runc(Engine):
    """Bare `runc run` of a prepared bundle: the floor no engine can go under."""
    name = "runc"

    def argv(self, *args: str) -> list[str]:
        return ["runc", "--root", str(self.dir / "state"), *args]

    def setup(self, busybox_tar: Path) -> None:
        bundle = self.dir / "bundle"
        (bundle / "rootfs").mkdir(parents=True)
        subprocess.run(["tar", "-xf", str(busybox_tar), "-C", str(bundle / "rootfs")], check=True)
        subprocess.run(["runc", "spec"], cwd=bundle, check=True)
        spec = json.loads((bundle / "config.json").read_text())
        spec["process"]["terminal"] = False
        spec["process"]["args"] = ["true"]
        (bundle / "config.json").write_text(json.dumps(spec))

    def run_rm(self, *cmd: str) -> list[str]:
        # `runc run` without -d is foreground and deletes the container when it exits
        return self.argv("run", "--bundle", str(self.dir / "bundle"), f"b{uuid.uuid4().hex[:12]}")

    def remove_all(self) -> None:
        res = subprocess.run(self.argv("list", "-q"), capture_output=True, text=True)
        for cid in res.stdout.split():
            subprocess.run(self.argv("delete", "-f", cid), stderr=subprocess.DEVNULL)


ALL = {"pallet": Pallet, "podman": Podman, "docker": Docker, "runc": Runc}
BINARY = {"pallet": PALLET[0], "podman": "podman", "docker": "dockerd", "runc": "runc"}


def available(names: list[str]) -> tuple[list[str], dict[str, str]]:
    """(installed engine names, {skipped name: reason})."""
    have, skipped = [], {}
    for n in names:
        if shutil.which(BINARY[n]) or Path(BINARY[n]).exists():
            have.append(n)
        else:
            skipped[n] = f"{BINARY[n]} is not installed"
    return have, skipped


class Engines:
    """Context manager: builds the requested engines, sets each up, closes them all."""

    def __init__(self, work: Path, names: list[str], busybox_tar: Path):
        self.work, self.tar = work, busybox_tar
        self.names, self.skipped = available(names)
        self.engines: dict[str, Engine] = {}

    def __enter__(self) -> dict[str, Engine]:
        try:
            for n in self.names:
                eng = ALL[n](self.work)
                self.engines[n] = eng
                eng.setup(self.tar)
        except BaseException:
            self.__exit__()
            raise
        return self.engines

    def __exit__(self, *exc) -> None:
        for eng in self.engines.values():
            try:
                eng.close()
            except Exception as err:  # keep closing the others; say what was left
                print(f"warning: closing {eng.name}: {err}")
        unmount_under(self.work)
        shutil.rmtree(self.work, ignore_errors=True)
