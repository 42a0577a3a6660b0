"""Push/pull throughput against a local docker-registry, next to skopeo copy.

Usage: .venv/bin/python bench/registry_bench.py [--small]   (root; takes ~1-2 minutes)

Builds an image with one 64 MB and one 256 MB layer (half random, half
repetitive text, so gzip has real work), loads it into a private pallet store,
starts Debian's docker-registry on 127.0.0.1, then measures:
  pallet push, pallet pull (fresh store), skopeo copy registry->oci and oci->registry;
and, to split the time, the single-core throughput of sha256, gzip -6 and gunzip
over the same bytes. Peak RSS of each pallet process shows memory stays flat.
docker/podman engines are not installed here, so skopeo is the outside yardstick.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
from registry_fixtures import start_registry, stop  # noqa: E402

MB = 1 << 20


def payload(size: int, seed: int) -> bytes:
    half = size // 2
    text = (b"pallet benchmark line %d: the quick brown fox jumps over the lazy dog\n" % seed) * (half // 64 + 1)
    return os.urandom(half) + text[:size - half]


def layer_tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def docker_archive(out: Path, sizes: list[int]) -> None:
    """Writes the archive; nothing large stays in this process (children's peak RSS is measured)."""
    diff_ids = []
    for i, size in enumerate(sizes):
        data = layer_tar(f"blob{i}.bin", payload(size, i))
        diff_ids.append("sha256:" + hashlib.sha256(data).hexdigest())
        (out.parent / f"l{i}.tar").write_bytes(data)
        del data
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    with tarfile.open(out, "w") as t:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        add("config.json", config)
        for i in range(len(sizes)):
            t.add(out.parent / f"l{i}.tar", f"l{i}.tar")
        add("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["bench:1"],
                                          "Layers": [f"l{i}.tar" for i in range(len(sizes))]}]).encode())


def timed(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB, VmHWM polled from /proc: it is reset at exec) of one child."""
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while p.poll() is None:
        try:
            status = Path(f"/proc/{p.pid}/status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.02)
    took = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed: {p.stderr.read().decode()}")
    return took, peak // 1024


def throughput(fn, data: bytes) -> float:
    start = time.perf_counter()
    fn(data)
    return len(data) / MB / (time.perf_counter() - start)


def main() -> None:
    sizes = [8 * MB, 32 * MB] if "--small" in sys.argv else [64 * MB, 256 * MB]
    total_mb = sum(sizes) / MB
    work = Path(tempfile.mkdtemp(prefix="pallet-bench-"))
    py = [sys.executable, "-m", "pallet.cli.main"]
    reg = start_registry(work / "registry")
    try:
        docker_archive(work / "image.tar", sizes)
        store = [*py, "--root", str(work / "a"), "--runroot", str(work / "a-run")]
        subprocess.run([*store, "load", "-i", str(work / "image.tar")], check=True, stdout=subprocess.DEVNULL)
        name = f"{reg.host}/bench/app:1"
        subprocess.run([*store, "tag", "bench:1", name], check=True)
        results = {}
        results["pallet push"] = timed([*store, "push", name])
        fresh = [*py, "--root", str(work / "b"), "--runroot", str(work / "b-run")]
        results["pallet pull"] = timed([*fresh, "pull", name])
        if shutil.which("skopeo"):
            tls = ["--src-tls-verify=false", "--dest-tls-verify=false"]
            results["skopeo copy registry->oci"] = timed(
                ["skopeo", "copy", "-q", *tls, f"docker://{name}", f"oci:{work / 'oci'}:1"])
            reg2 = start_registry(work / "registry2")  # empty: nothing to skip or mount
            try:
                results["skopeo copy oci->registry"] = timed(
                    ["skopeo", "copy", "-q", *tls, f"oci:{work / 'oci'}:1", f"docker://{reg2.host}/bench/sk:1"])
            finally:
                stop(reg2)
        print(f"image: {len(sizes)} layers, {total_mb:.0f} MB uncompressed")
        for k, (secs, rss) in results.items():
            print(f"{k:<28} {secs:6.2f} s  {total_mb / secs:7.1f} MB/s  peak RSS {rss} MiB")
        sample = (work / "l1.tar").read_bytes()  # the 256 MB layer's tar
        gz = zlib.compressobj(6, zlib.DEFLATED, 31)
        packed = gz.compress(sample) + gz.flush()
        rates = {"sha256": throughput(lambda d: hashlib.sha256(d).digest(), sample),
                 "gzip -6": throughput(lambda d: zlib.compress(d, 6), sample),
                 "gunzip": len(sample) / MB / _secs(lambda: zlib.decompress(packed, 31))}
        try:
            from isal import igzip
            rates["gunzip (isal, used by pull)"] = len(sample) / MB / _secs(lambda: igzip.decompress(packed))
        except ImportError:
            pass
        print("single-core rates over the same bytes: " +
              ", ".join(f"{k} {v:.0f} MB/s" for k, v in rates.items()))
        push_s, pull_s = results["pallet push"][0], results["pallet pull"][0]
        # push hashes the compressed bytes once and the tar once (diff_id check on regeneration)
        ratio = len(packed) / len(sample)
        push_cpu = {"compression": total_mb / rates["gzip -6"],
                    "hashing": total_mb * (1 + ratio) / rates["sha256"]}
        pull_cpu = {"decompression": total_mb / rates.get("gunzip (isal, used by pull)", rates["gunzip"]),
                    "hashing": total_mb * (1 + ratio) / rates["sha256"]}
        for label, secs, parts in (("push", push_s, push_cpu), ("pull", pull_s, pull_cpu)):
            rest = max(secs - sum(parts.values()), 0)
            shares = ", ".join(f"{k} {v / secs:.0%}" for k, v in parts.items())
            print(f"{label}: {shares}, network+disk+other {rest / secs:.0%} (estimated from the rates)")
    finally:
        stop(reg)
        shutil.rmtree(work, ignore_errors=True)


def _secs(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
