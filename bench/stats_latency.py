"""`pallet stats --no-stream` latency with N running containers (issue 4: measure with 50).

Usage (root): .venv/bin/python bench/stats_latency.py [N] [REPEATS]
Starts N busybox `sleep` containers in a private --root/--runroot, times
`pallet stats --no-stream` as a fresh CLI process REPEATS times, removes everything.
The time includes pallet's fixed sampling interval (services.container_ops.SAMPLE_INTERVAL,
the two cgroup readings a CPU % needs), reported separately.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    from pallet.services.containers.ops import SAMPLE_INTERVAL
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory(prefix="pallet-bench-") as tmp:
        base = [sys.executable, "-m", "pallet.cli.main", "--root", f"{tmp}/root", "--runroot", f"{tmp}/run"]

        def pallet(*args: str) -> str:
            return subprocess.run(base + list(args), check=True, capture_output=True, text=True).stdout

        rootfs = Path(tmp) / "busybox.tar"
        subprocess.run([str(REPO / "examples" / "busybox-rootfs.sh"), str(rootfs)], check=True,
                       capture_output=True)
        pallet("import", "-c", 'CMD ["sh"]', str(rootfs), "busybox")
        t0 = time.monotonic()
        for i in range(n):
            pallet("run", "-d", "--name", f"c{i}", "busybox", "sleep", "100000")
        print(f"started {n} containers in {time.monotonic() - t0:.1f}s")
        try:
            times = []
            for _ in range(repeats):
                t = time.monotonic()
                out = pallet("stats", "--no-stream")
                times.append(time.monotonic() - t)
                assert len(out.splitlines()) == n + 1, out
            print(f"stats --no-stream, {n} running: median {statistics.median(times) * 1000:.0f} ms, "
                  f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
                  f"(of which {SAMPLE_INTERVAL * 1000:.0f} ms is the CPU sampling interval)")
        finally:
            pallet("rm", "-f", *[f"c{i}" for i in range(n)])


if __name__ == "__main__":
    main()
