"""Issue 5: hashing a 1 GiB build context (what decides whether COPY/ADD steps are cached).

Usage (root): .venv/bin/python bench/context_hash_bench.py [--runs 3]

The context: 8 files of 120 MiB and 1000 files of 64 KiB (1.0 GiB). Each run drops the page
cache first (the context is read from disk, as after a checkout), then measures, as separate
processes: `cat` of every file (the disk's read speed), `sha256sum` of every file (the
hash's speed on one core), and pallet's context hashing (`BuildContext.source_digest` of the
whole context, in a fresh process) with its peak RSS. Results: bench/results/context_hash.json.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

import harness as h

BIG, BIG_MB, SMALL, SMALL_KB = 8, 120, 1000, 64
HASH = ("import sys; sys.path.insert(0, sys.argv[2])\n"
        "from pallet.build.context import BuildContext\n"
        "ctx = BuildContext.from_dir(sys.argv[1])\n"
        "print(ctx.source_digest(ctx.sources('.')[0])[0])\n")


def make_context(root) -> int:
    (root / "big").mkdir(parents=True)
    (root / "small").mkdir()
    chunk = os.urandom(1 << 20)
    for i in range(BIG):
        with open(root / "big" / f"f{i}", "wb") as f:
            for _ in range(BIG_MB):
                f.write(chunk)
    for i in range(SMALL):
        (root / "small" / f"s{i}").write_bytes(os.urandom(SMALL_KB << 10))
    subprocess.run(["sync"], check=True)
    return BIG * (BIG_MB << 20) + SMALL * (SMALL_KB << 10)


def drop_caches() -> None:
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    work = h.workdir("ctxhash")
    try:
        ctx = work / "ctx"
        size = make_context(ctx)
        files = sorted(str(p) for p in ctx.rglob("*") if p.is_file())
        cases = {
            "cat (disk read)": ["sh", "-c", 'cat "$@" > /dev/null', "cat", *files],
            "sha256sum": ["sha256sum", *files],
            "pallet context hash": [sys.executable, "-c", HASH, str(ctx), str(h.REPO / "src")],
        }
        samples: dict[str, list[float]] = {k: [] for k in cases}
        rss: list[int] = []
        for _ in range(args.runs):
            for name, argv in cases.items():
                drop_caches()
                seconds, peak = h.peak_rss(argv, stdin=subprocess.DEVNULL)
                samples[name].append(seconds)
                if name.startswith("pallet"):
                    rss.append(peak)
        out = {"bytes": size, "runs": args.runs, "seconds": h.summary(samples),
               "mb_per_s": {k: size / h.MB / sorted(v)[len(v) // 2] for k, v in samples.items()},
               "pallet_peak_rss_bytes": max(rss), "samples": samples}
        h.save("context_hash", out)
        print({k: round(v) for k, v in out["mb_per_s"].items()}, f"peak RSS {max(rss) / h.MB:.1f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
