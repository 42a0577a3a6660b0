"""Push/pull throughput against a local docker-registry: pallet, docker, podman and skopeo.

Usage (root):  .venv/bin/python bench/registry_bench.py [--runs 3] [--small] [--mixed]
               [--engines pallet docker podman]          (~3-5 minutes)

Builds an image with one 64 MB and one 256 MB layer of incompressible (random) data
(`--mixed`: half random, half repetitive text, so gzip has real work; `--small`: 8 + 32 MB),
loads it into each engine's private store (pallet; docker through a private, network-less
dockerd from engines.py; podman with a private --root) and runs Debian's docker-registry on
127.0.0.1 (free ports). Interleaved rounds (rotating engine order), median of --runs:
  push   every push goes to a fresh, empty registry, so nothing is skipped or mounted;
  pull   from one registry holding the image; the puller has removed the image first
         (pallet: a fresh store each time; docker/podman: `rmi -f` of the image, untimed);
  skopeo copy registry->oci and oci->registry (to an empty registry), once per round.
MB/s is the uncompressed layer bytes (320 MB) over the wall time of the CLI process.
docker treats 127.0.0.0/8 as insecure (plain http) by default; podman gets --tls-verify=false.
Peak RSS (VmHWM, polled) is of the CLI process: for docker the work happens in dockerd.
Afterwards the single-core rates of sha256, gzip -6 and gunzip over the 256 MB layer's tar
split pallet's time into CPU work and the rest. Everything (registries, dockerd, stores)
is removed at the end, also on failure. Result: bench/results/registry.json.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
from registry_fixtures import start_registry, stop  # noqa: E402

import harness as h  # noqa: E402
from engines import Engines, available  # noqa: E402

MB = 1 << 20
ENGINES = ["pallet", "docker", "podman"]
QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


def payload(size: int, seed: int, mixed: bool) -> bytes:
    if not mixed:
        return os.urandom(size)
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


def docker_archive(out: Path, sizes: list[int], mixed: bool) -> None:
    """Writes the archive; nothing large stays in this process (children's peak RSS is measured)."""
    diff_ids = []
    for i, size in enumerate(sizes):
        data = layer_tar(f"blob{i}.bin", payload(size, i, mixed))
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
        raise RuntimeError(f"{argv[:6]} failed: {p.stderr.read().decode()[-1500:]}")
    return took, peak // 1024


def throughput(fn, data: bytes) -> float:
    start = time.perf_counter()
    fn(data)
    return len(data) / MB / (time.perf_counter() - start)


class Side:
    """One engine's push (to a given registry) and pull (after removing the image)."""

    def __init__(self, eng, work: Path, archive: Path):
        self.eng, self.work, self.name = eng, work, eng.name
        self.pulls = 0
        subprocess.run(eng.argv("load", "-i", str(archive)), check=True, **QUIET)
        self.local = "bench:1"

    def push(self, host: str) -> tuple[float, int]:
        ref = f"{host}/bench/{self.name}:1"
        if self.name == "podman":
            return timed(self.eng.argv("push", "--tls-verify=false", self.local, f"docker://{ref}"))
        subprocess.run(self.eng.argv("tag", self.local, ref), check=True, **QUIET)
        try:
            return timed(self.eng.argv("push", ref))
        finally:
            subprocess.run(self.eng.argv("rmi", ref), **QUIET)   # untag only

    def pull(self, ref: str) -> tuple[float, int]:
        if self.name == "pallet":  # a fresh store each time (its init is inside the timing)
            self.pulls += 1
            root = self.work / f"pallet-pull-{self.pulls}"
            argv = h.PALLET + ["--root", str(root / "root"), "--runroot", str(root / "run"), "pull", ref]
            try:
                return timed(argv)
            finally:
                h.unmount_under(root)
                shutil.rmtree(root, ignore_errors=True)
        image_id = subprocess.run(self.eng.argv("image", "inspect", "--format", "{{.Id}}", self.local),
                                  capture_output=True, text=True).stdout.strip()
        if image_id:  # drop every tag and the layers, so the pull really downloads
            subprocess.run(self.eng.argv("rmi", "-f", image_id), **QUIET)
        pull = ["pull", "--tls-verify=false", ref] if self.name == "podman" else ["pull", ref]
        took = timed(self.eng.argv(*pull))
        # the pulled image is the same image: it is what the next round pushes
        subprocess.run(self.eng.argv("tag", ref, self.local), check=True, **QUIET)
        subprocess.run(self.eng.argv("rmi", ref), **QUIET)
        return took


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--small", action="store_true", help="8 + 32 MB layers")
    p.add_argument("--mixed", action="store_true", help="half random, half text layers")
    p.add_argument("--engines", nargs="+", default=ENGINES, choices=ENGINES)
    args = p.parse_args(argv)
    sizes = [8 * MB, 32 * MB] if args.small else [64 * MB, 256 * MB]
    total_mb = sum(sizes) / MB
    work = h.workdir("registry")
    registries = []

    def registry():
        reg = start_registry(work / f"registry{len(registries)}")
        registries.append(reg)
        return reg

    def drop(reg) -> None:
        stop(reg)
        shutil.rmtree(reg.storage.parent, ignore_errors=True)
        registries.remove(reg)

    samples: dict[str, list[tuple[float, int]]] = {}
    try:
        docker_archive(work / "image.tar", sizes, args.mixed)
        # Engines removes `work` (and all stores under it) when it closes
        with Engines(work, args.engines, h.busybox_tar(work)) as engines:
            sides = {n: Side(e, work, work / "image.tar") for n, e in engines.items()}
            names = list(sides)
            # the pull registry gets pallet's push (or the first engine's), untimed
            src = registry()
            sides[names[0]].push(src.host)
            src_ref = f"{src.host}/bench/{names[0]}:1"
            for i in range(args.runs):
                order = names[i % len(names):] + names[:i % len(names)]
                for n in order:
                    reg = registry()
                    try:
                        samples.setdefault(f"{n} push", []).append(sides[n].push(reg.host))
                    finally:
                        drop(reg)
                for n in order:
                    samples.setdefault(f"{n} pull", []).append(sides[n].pull(src_ref))
                if shutil.which("skopeo"):
                    tls = ["--src-tls-verify=false", "--dest-tls-verify=false"]
                    oci = work / "oci"
                    shutil.rmtree(oci, ignore_errors=True)
                    samples.setdefault("skopeo copy registry->oci", []).append(timed(
                        ["skopeo", "copy", "-q", *tls, f"docker://{src_ref}", f"oci:{oci}:1"]))
                    reg = registry()
                    try:
                        samples.setdefault("skopeo copy oci->registry", []).append(timed(
                            ["skopeo", "copy", "-q", *tls, f"oci:{oci}:1", f"docker://{reg.host}/bench/sk:1"]))
                    finally:
                        drop(reg)
                print(f"round {i + 1}/{args.runs}: " + ", ".join(
                    f"{k} {v[-1][0]:.2f}s" for k, v in samples.items()), file=sys.stderr)
            for reg in list(registries):
                drop(reg)
            result = _report(samples, sizes, total_mb, args, work)
    finally:
        for reg in list(registries):
            stop(reg)
        h.unmount_under(work)
        shutil.rmtree(work, ignore_errors=True)
    h.save("registry", result)
    return result


def _report(samples, sizes, total_mb, args, work: Path) -> dict:
    rows = {}
    for k, v in samples.items():
        secs = statistics.median(s for s, _ in v)
        rows[k] = {"median_s": secs, "min_s": min(s for s, _ in v), "max_s": max(s for s, _ in v),
                   "mb_per_s": total_mb / secs, "peak_rss_mib": max(r for _, r in v), "runs": len(v)}
    ratios = {}
    for op in ("push", "pull"):
        others = {k: r for k, r in rows.items() if k.endswith(f" {op}") and not k.startswith("pallet")
                  and k.split()[0] in ("docker", "podman")}
        if f"pallet {op}" in rows and others:
            best = max(others, key=lambda k: others[k]["mb_per_s"])
            ratios[op] = {"best_other": best, "pallet_mb_per_s": rows[f"pallet {op}"]["mb_per_s"],
                          "best_other_mb_per_s": others[best]["mb_per_s"],
                          "pallet_vs_best": rows[f"pallet {op}"]["mb_per_s"] / others[best]["mb_per_s"],
                          **{f"pallet_vs_{k.split()[0]}": rows[f"pallet {op}"]["mb_per_s"] / r["mb_per_s"]
                             for k, r in others.items()}}
    # CPU rates over the same bytes, to split pallet's time
    sample = (work / "l1.tar").read_bytes()  # the 256 MB layer's tar
    gz = zlib.compressobj(6, zlib.DEFLATED, 31)
    packed = gz.compress(sample) + gz.flush()
    rates = {"sha256": throughput(lambda d: hashlib.sha256(d).digest(), sample),
             "gzip -6": throughput(lambda d: zlib.compress(d, 6), sample),
             "gunzip": len(sample) / MB / _secs(lambda: zlib.decompress(packed, 31))}
    try:
        from isal import igzip
        rates["gzip (isal level 1, used by push)"] = throughput(lambda d: igzip.compress(d, 1), sample)
        rates["gunzip (isal, used by pull)"] = len(sample) / MB / _secs(lambda: igzip.decompress(packed))
    except ImportError:
        pass
    del sample
    split = {}
    ratio = len(packed) / (sizes[-1] + 1024)
    cpu = {"push": {"compression": total_mb / rates.get("gzip (isal level 1, used by push)", rates["gzip -6"]),
                    "hashing": total_mb * (1 + ratio) / rates["sha256"]},
           "pull": {"decompression": total_mb / rates.get("gunzip (isal, used by pull)", rates["gunzip"]),
                    "hashing": total_mb * (1 + ratio) / rates["sha256"]}}
    for op, parts in cpu.items():
        secs = rows.get(f"pallet {op}", {}).get("median_s")
        if secs:
            split[op] = {**{k: v / secs for k, v in parts.items()},
                         "network+disk+other": max(secs - sum(parts.values()), 0) / secs}
    return {"runs": args.runs, "layers_mb": [s / MB for s in sizes], "total_mb": total_mb,
            "data": "mixed" if args.mixed else "random", "skipped": available(args.engines)[1],
            "results": rows, "pallet_vs_best": ratios, "cpu_rates_mb_per_s": rates,
            "pallet_time_split": split}


def _secs(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
