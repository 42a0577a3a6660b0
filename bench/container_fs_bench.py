"""commit / cp / export throughput on a container that wrote 200 MB; diff over 10,000 files.

Usage: .venv/bin/python bench/container_fs_bench.py   (root; ~30 s)

A private pallet store under a temp dir, busybox imported from examples/. One
container writes 200 MB (4 x 50 MB, half random) and stops; we time, each as a
separate `pallet` process (so start-up is included, as a user sees it):
commit, cp container->host, cp host->container, export to a file. A second
container creates 10,000 small files in 100 directories; we time `diff` and
`commit` on it. `cp -r` of the same upper dir on the host is the yardstick.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MB = 1 << 20


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="pallet-fsbench-"))
    base = [sys.executable, "-m", "pallet.cli.main", "--root", str(work / "root"),
            "--runroot", str(work / "run")]

    def pallet(*args: str, quiet: bool = True) -> float:
        t = time.perf_counter()
        subprocess.run(base + list(args), check=True,
                       stdout=subprocess.DEVNULL if quiet else None)
        return time.perf_counter() - t

    try:
        bb = work / "busybox.tar"
        subprocess.run([str(HERE.parent / "examples" / "busybox-rootfs.sh"), str(bb)], check=True,
                       stdout=subprocess.DEVNULL)
        pallet("import", str(bb), "busybox:latest")
        script = ("mkdir /big; for i in 1 2 3 4; do head -c 26214400 /dev/urandom > /big/r$i; "
                  "yes pallet-bench-line | head -c 26214400 > /big/t$i; done")
        pallet("run", "--name", "big", "busybox", "sh", "-c", script)
        size = 200 * MB
        rows = [("commit (200 MB)", pallet("commit", "big", "big:snap"))]
        rows.append(("cp container->host (200 MB)", pallet("cp", "big:/big", str(work / "out"))))
        rows.append(("cp host->container (200 MB)", pallet("cp", str(work / "out"), "big:/again")))
        rows.append(("export (>=200 MB)", pallet("export", "-o", str(work / "fs.tar"), "big")))
        t = time.perf_counter()
        shutil.copytree(work / "out", work / "hostcopy", symlinks=True)
        rows.append(("yardstick: shutil.copytree on host (200 MB)", time.perf_counter() - t))
        for name, secs in rows:
            print(f"{name:<46} {secs:6.2f} s  {size / MB / secs:7.1f} MB/s")
        many = ("for d in $(seq 100); do mkdir -p /many/$d; cd /many/$d; "
                "for f in $(seq 100); do echo $f > f$f; done; done")
        pallet("run", "--name", "many", "busybox", "sh", "-c", many)
        for label, args in (("diff (10,000 files)", ("diff", "many")),
                            ("commit (10,000 files)", ("commit", "many", "many:snap"))):
            print(f"{label:<46} {pallet(*args):6.2f} s")
        t = time.perf_counter()
        subprocess.run(base + ["diff", "many"], check=True, capture_output=True)
        print(f"{'diff again (warm cache)':<46} {time.perf_counter() - t:6.2f} s")
    finally:
        subprocess.run(base + ["rm", "-f", "big", "many"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("needs root (overlayfs, runc, conmon)")
    main()
