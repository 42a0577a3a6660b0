"""The store under load and random kill -9: 4 processes x 25 `run --rm`, with `rm -f`, `ps -a` and
`images` running alongside and pallet processes killed in the middle of their work. Afterwards
`system check` finds nothing wrong, or only what `system check --repair` removes, and then
nothing. Bounded in count and time; the rate is printed (speed is bench/'s to judge)."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

WORKERS, RUNS, KILLS = 4, 25, 8


def _pallet_argv(pallet) -> list[str]:
    launcher = Path(sys.executable).parent / "pallet"
    head = [str(launcher)] if launcher.exists() else [sys.executable, "-m", "pallet.cli.main"]
    return head + ["--root", str(pallet.root), "--runroot", str(pallet.runroot)]


class _Storm:
    """Spawns pallet processes and remembers the live ones, for the killer to choose from."""

    def __init__(self, pallet):
        self.argv, self.live, self.lock = _pallet_argv(pallet), set(), threading.Lock()
        self.done, self.failures = threading.Event(), []

    def run(self, *args: str) -> int:
        proc = subprocess.Popen(self.argv + list(args), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with self.lock:
            self.live.add(proc)
        out, err = proc.communicate(timeout=120)
        with self.lock:
            self.live.discard(proc)
        if proc.returncode not in (0, -signal.SIGKILL) and b"internal error" in err:
            self.failures.append((args, err.decode()))
        return proc.returncode

    def worker(self, completed: list) -> None:
        for _ in range(RUNS):
            if self.run("run", "--rm", "busybox", "true") == 0:
                completed.append(1)

    def bystander(self) -> None:
        while not self.done.is_set():
            self.run("ps", "-a")
            self.run("images")
            ids = subprocess.run(self.argv + ["ps", "-aq"], capture_output=True, text=True).stdout.split()
            if ids:
                self.run("rm", "-f", random.choice(ids))

    def killer(self, killed: list) -> None:
        while not self.done.is_set() and len(killed) < KILLS:
            time.sleep(random.uniform(0.2, 0.6))
            with self.lock:
                victims = [p for p in self.live if p.poll() is None]
            if victims:
                victim = random.choice(victims)
                try:
                    os.kill(victim.pid, signal.SIGKILL)
                    killed.append(victim.args[len(self.argv):])
                except ProcessLookupError:
                    continue


def test_run_rm_storm_with_kills_leaves_a_store_that_check_finds_whole(pallet, busybox):
    storm, completed, killed = _Storm(pallet), [], []
    workers = [threading.Thread(target=storm.worker, args=(completed,)) for _ in range(WORKERS)]
    others = [threading.Thread(target=storm.bystander), threading.Thread(target=storm.killer, args=(killed,))]
    start = time.monotonic()
    for t in workers + others:
        t.start()
    for t in workers:
        t.join(timeout=300)
    elapsed = time.monotonic() - start
    storm.done.set()
    for t in others:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in workers + others), "the storm did not end"
    assert storm.failures == [], storm.failures
    print(f"\nstress: {len(completed)} of {WORKERS * RUNS} run --rm completed in {elapsed:.1f}s "
          f"({len(completed) / elapsed:.2f} runs/s), {len(killed)} pallet processes killed: {killed}")

    _wait_for_monitors(pallet)
    r = pallet("system", "check")
    print(f"system check after the storm (exit {r.code}):\n{r.out}")
    if r.code != 0:
        fixed = pallet("system", "check", "--repair")
        print(f"system check --repair:\n{fixed.out}")
        assert fixed.code == 0, fixed.err
        assert all(line.startswith(("Removed leftover", "Deleted damaged")) for line in fixed.lines)
    assert pallet("system", "check").code == 0
    # the store still works: every container left can be removed, a new one runs
    ids = pallet.ok("ps", "-aq").lines
    if ids:
        pallet.ok("rm", "-f", *ids)
    assert pallet.ok("run", "--rm", "busybox", "echo", "ok").lines == ["ok"]
    assert pallet("system", "check").code == 0


def _wait_for_monitors(pallet, timeout: float = 30) -> None:
    """conmon runs each container's exit command after its `run` is gone: let them finish."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = subprocess.run(["pgrep", "-f", f"(conmon|container cleanup).*{pallet.runroot}"],
                              capture_output=True).stdout
        if not busy:
            return
        time.sleep(0.2)
