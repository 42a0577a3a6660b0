"""Issue 2: image store throughput, listing latency and import memory.

Usage (root):  .venv/bin/python bench/images.py {throughput,memory,images,all} [--runs N] [--mb 200]

  throughput  `pallet import` and `pallet save` of a 200 MB layer in MB/s (of tar bytes), as a
              single file of random (incompressible) data and as 20,000 files of 10 KB, next
              to `sha256sum`, `gzip` (default level) and `tar -x` of the same tar. Each import is
              cold: the previous image is removed (untimed) so the layer is unpacked again.
  memory      peak RSS (wait4's ru_maxrss) of `pallet import` for 50 MB and 200 MB single-file
              layers and the 200 MB many-files layer; it must not grow with the layer size.
  images      `pallet images` latency with 1 and with 500 images (one tiny layer imported
              500 times with a different `-c LABEL`, in one process to keep set-up quick).
The store is private (/var/tmp/pallet-bench-*) and removed at exit.
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import harness as h
from engines import Pallet

CHUNK = 1 << 20


def random_tar(path: Path, size: int) -> Path:
    """One file of `size` random bytes (incompressible)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("data.bin")
        info.size, info.mode, info.mtime = size, 0o644, 0
        tar.addfile(info, _RandomReader(size))
    return path


def small_files_tar(path: Path, size: int, file_size: int = 10 * 1024) -> Path:
    """size/file_size files of random bytes, 200 per directory."""
    count = size // file_size
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for i in range(count):
            if i % 200 == 0:
                d = tarfile.TarInfo(f"d{i // 200:04d}")
                d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 0
                tar.addfile(d)
            info = tarfile.TarInfo(f"d{i // 200:04d}/f{i:06d}")
            info.size, info.mode, info.mtime = file_size, 0o644, 0
            tar.addfile(info, io.BytesIO(os.urandom(file_size)))
    return path


class _RandomReader(io.RawIOBase):
    def __init__(self, size: int):
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return os.urandom(n)


def _inputs(work: Path, mb: int, which: list[str]) -> dict[str, Path]:
    makers = {f"random_{mb}MB": lambda p: random_tar(p, mb * h.MB),
              f"smallfiles_{mb}MB": lambda p: small_files_tar(p, mb * h.MB),
              "random_50MB": lambda p: random_tar(p, 50 * h.MB)}
    return {name: makers[name](work / f"{name}.tar") for name in which}


def bench_throughput(args) -> dict:
    work = h.workdir("img")
    pallet = Pallet(work)
    try:
        tars = _inputs(work, args.mb, [f"random_{args.mb}MB", f"smallfiles_{args.mb}MB"])
        samples: dict[str, list[float]] = {}
        for _ in range(args.runs):
            for name, tar in tars.items():
                subprocess.run(pallet.argv("rmi", "-f", "big:latest"), capture_output=True)
                out = work / "out.tar"
                steps = {"pallet_import": pallet.argv("import", str(tar), "big:latest"),
                         "pallet_save": pallet.argv("save", "-o", str(out), "big:latest"),
                         "sha256sum": ["sha256sum", str(tar)],
                         "gzip": ["sh", "-c", f"gzip -c '{tar}' > '{out}.gz'"],
                         "tar_x": ["sh", "-c", f"mkdir '{out}.d' && tar -xf '{tar}' -C '{out}.d'"]}
                for step, argv in steps.items():
                    samples.setdefault(f"{name}/{step}", []).append(h.timed(argv))
                out.unlink(missing_ok=True)
                Path(f"{out}.gz").unlink(missing_ok=True)
                shutil.rmtree(f"{out}.d", ignore_errors=True)
        sizes = {name: tar.stat().st_size for name, tar in tars.items()}
        seconds = h.summary(samples)
        mb_s = {key: sizes[key.split("/")[0]] / h.MB / row["median"] for key, row in seconds.items()}
        result = {"runs": args.runs, "tar_bytes": sizes, "mb_per_s": mb_s, "seconds": seconds}
    finally:
        pallet.close()
        shutil.rmtree(work, ignore_errors=True)
    h.save("image_throughput", result)
    return result


def bench_memory(args) -> dict:
    work = h.workdir("mem")
    pallet = Pallet(work)
    try:
        tars = _inputs(work, args.mb, ["random_50MB", f"random_{args.mb}MB", f"smallfiles_{args.mb}MB"])
        result: dict = {"peak_rss_bytes": {}, "seconds": {}}
        for name, tar in tars.items():
            seconds, rss = h.peak_rss(pallet.argv("import", str(tar), f"{name.lower()}:latest"))
            result["peak_rss_bytes"][name] = rss
            result["seconds"][name] = seconds
        baseline = h.peak_rss(pallet.argv("images"))[1]
        result["peak_rss_bytes"]["pallet_images_baseline"] = baseline
    finally:
        pallet.close()
        shutil.rmtree(work, ignore_errors=True)
    h.save("import_memory", result)
    return result


def bench_images(args) -> dict:
    work = h.workdir("ls")
    pallet = Pallet(work)
    try:
        tiny = work / "tiny.tar"
        with tarfile.open(tiny, "w") as tar:
            info = tarfile.TarInfo("hello")
            info.size = 6
            tar.addfile(info, io.BytesIO(b"hello\n"))
        result: dict = {"runs": args.runs, "seconds": {}}
        for count in (1, args.count):
            _import_many(pallet, tiny, count - (1 if count != 1 else 0), start=1 if count != 1 else 0)
            listed = subprocess.run(pallet.argv("images", "-q"), capture_output=True, text=True)
            assert len(listed.stdout.split()) == count, listed.stdout[-200:]
            samples = h.interleave({"pallet_images": lambda: h.timed(pallet.argv("images"))}, args.runs)
            result["seconds"][str(count)] = h.summary(samples)["pallet_images"]
    finally:
        pallet.close()
        shutil.rmtree(work, ignore_errors=True)
    h.save("images_list", result)
    return result


def _import_many(pallet: Pallet, tar: Path, n: int, start: int) -> None:
    code = ("import sys; from pallet.cli.main import run, Context\n"
            "ctx = Context(sys.argv[1], sys.argv[2], stdout=open('/dev/null', 'w'))\n"
            "for i in range(int(sys.argv[4]), int(sys.argv[4]) + int(sys.argv[5])):\n"
            "    assert run(['import', '-c', f'LABEL n={i}', sys.argv[3], f'img{i}:latest'], ctx) == 0\n")
    subprocess.run([str(h.REPO / ".venv/bin/python"), "-c", code, str(pallet.dir / "root"),
                    str(pallet.dir / "run"), str(tar), str(start), str(n)], check=True)


COMMANDS = {"throughput": bench_throughput, "memory": bench_memory, "images": bench_images}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("bench", choices=[*COMMANDS, "all"])
    p.add_argument("--runs", type=int, default=None, help="timed runs (throughput 3, images 10)")
    p.add_argument("--mb", type=int, default=200, help="layer size for throughput and memory")
    p.add_argument("--count", type=int, default=500, help="images stored for `images`")
    args = p.parse_args(argv)
    for name in COMMANDS if args.bench == "all" else [args.bench]:
        runs = args.runs
        args.runs = runs or {"throughput": 3, "images": 10}.get(name, 1)
        COMMANDS[name](args)
        args.runs = runs


if __name__ == "__main__":
    sys.exit(main())
