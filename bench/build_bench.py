"""Image build: `pallet build` next to docker's classic builder and `podman build --layers`.

Usage (root):  .venv/bin/python bench/build_bench.py [--runs 5] [--engines pallet podman docker]

A 9-step Dockerfile over a context of one config file and a `src/` dir of 50 files x 20 kB:

    FROM busybox / WORKDIR / ENV / COPY config / RUN (short) / COPY src / RUN (short) / EXPOSE / CMD

Three cases, each interleaved across engines (rotating order), median of --runs:
  cold     build cache cleared first (untimed): built image removed and the cache pruned
           (pallet `rmi` + `builder prune -f`; docker `rmi` + `image prune -f` + `builder
           prune -f`; podman `rmi` + `image prune -f`, which drops the --layers intermediates)
  cached   the same build again with nothing changed
  changed  one of the 50 source files gets new content (untimed), then the build
Every build's output is kept long enough to count which steps came from the cache, so the
result also says where each engine started rebuilding (goal for `changed`: at the COPY of
src/, step 6). Goals: cold <= 0.8x docker and podman; cached <= 0.5x podman and no slower
than docker. RUN steps use `--network none` everywhere (the private dockerd has no bridge).
Each engine has its own context copy and private store under /var/tmp/pallet-bench-*.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import harness as h
from engines import Engines, available

ENGINES = ["pallet", "docker", "podman"]
CASES = ["cold", "cached", "changed"]
TAG = "bench-build:latest"
STEPS = 9
FILES, FILE_SIZE = 50, 20 * 1024
CHANGED_FILE = "src/f17.dat"
DOCKERFILE = """\
FROM busybox
WORKDIR /app
ENV APP_ENV=bench APP_PORT=8080
COPY app.conf /etc/app/app.conf
RUN mkdir -p /app/data && echo ready > /app/data/state
COPY src/ /app/src/
RUN ls /app/src | wc -l > /app/data/count
EXPOSE 8080
CMD ["sh", "-c", "cat /app/data/count"]
"""
# the line after a step header that says the step was reused
CACHE_HIT = {"pallet": " ---> Using cache", "docker": " ---> Using cache", "podman": "--> Using cache"}
STEP_RE = re.compile(r"^(?:Step|STEP) (\d+)/(\d+)")


def make_context(root: Path) -> None:
    (root / "src").mkdir(parents=True)
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "app.conf").write_text("[app]\nname = bench\nworkers = 4\n")
    for i in range(FILES):
        (root / "src" / f"f{i:02d}.dat").write_bytes(os.urandom(FILE_SIZE))


def build_argv(eng, ctx: Path) -> list[str]:
    if eng.name == "pallet":  # the classic text, to compare with docker's classic builder
        return eng.argv("build", "--progress=classic", "--network", "none", "-t", TAG, str(ctx))
    if eng.name == "docker":
        return eng.argv("build", "--network", "none", "-t", TAG, str(ctx))
    return eng.argv("build", "--layers", "--pull=never", "--network", "none",
                    "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                    "-t", TAG, str(ctx))


def clear_cache(eng) -> None:
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(eng.argv("rmi", "-f", TAG), **quiet)
    if eng.name == "pallet":
        subprocess.run(eng.argv("builder", "prune", "-f"), check=True, **quiet)
    elif eng.name == "docker":
        subprocess.run(eng.argv("image", "prune", "-f"), **quiet)
        subprocess.run(eng.argv("builder", "prune", "-f"), **quiet)
    else:
        subprocess.run(eng.argv("image", "prune", "-f"), **quiet)


def cached_steps(output: str, name: str) -> list[int]:
    """Step numbers whose output said the cache was used."""
    hits, step = [], 0
    for line in output.splitlines():
        m = STEP_RE.match(line)
        if m:
            step = int(m.group(1))
        elif line.startswith(CACHE_HIT[name]) and step:
            hits.append(step)
    return sorted(set(hits))


def build(eng, ctx: Path, env: dict) -> tuple[float, list[int]]:
    t = time.perf_counter()
    proc = subprocess.run(build_argv(eng, ctx), env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{eng.name} build exited {proc.returncode}:\n{proc.stdout[-1500:]}\n"
                           f"{proc.stderr[-1500:]}")
    return elapsed, cached_steps(proc.stdout + proc.stderr, eng.name)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--engines", nargs="+", default=ENGINES, choices=ENGINES)
    args = p.parse_args(argv)
    work = h.workdir("build")
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}  # docker: the classic builder
    with Engines(work, args.engines, h.busybox_tar(work)) as engines:
        ctx = {}
        for name in engines:
            ctx[name] = work / f"ctx-{name}"
            make_context(ctx[name])
        samples = {c: {n: [] for n in engines} for c in CASES}
        hits = {c: {n: [] for n in engines} for c in CASES}
        names = list(engines)
        counter = 0

        def one(case: str, name: str) -> tuple[float, list[int]]:
            nonlocal counter
            eng = engines[name]
            if case == "cold":
                clear_cache(eng)
            elif case == "changed":
                counter += 1
                (ctx[name] / CHANGED_FILE).write_bytes(os.urandom(FILE_SIZE - 8) + b"%08d" % counter)
            return build(eng, ctx[name], env)

        for i in range(args.warmup + args.runs):
            order = names[i % len(names):] + names[:i % len(names)]
            for case in CASES:           # cached/changed follow every engine's cold build
                for name in order:
                    secs, steps = one(case, name)
                    if i >= args.warmup:
                        samples[case][name].append(secs)
                        hits[case][name].append(steps)
            print(f"round {i + 1}/{args.warmup + args.runs}: " + ", ".join(
                f"{c}/{n} {samples[c][n][-1]:.2f}s" for c in CASES for n in names if samples[c][n]),
                file=sys.stderr)
    result = {"runs": args.runs, "steps": STEPS, "files": FILES, "file_bytes": FILE_SIZE,
              "dockerfile": DOCKERFILE, "skipped": available(args.engines)[1],
              "seconds": {c: h.summary(samples[c], base="pallet") for c in CASES},
              "first_rebuilt_step": {c: {n: _first_rebuilt(hits[c][n]) for n in names} for c in CASES},
              "cached_steps": {c: {n: hits[c][n][-1] for n in names} for c in CASES},
              "samples": samples}
    h.save("build", result)
    return result


def _first_rebuilt(runs: list[list[int]]) -> int | None:
    """The first step (2..9) not taken from the cache, in the last run; None = all cached."""
    last = set(runs[-1]) if runs else set()
    for step in range(2, STEPS + 1):
        if step not in last:
            return step
    return None


if __name__ == "__main__":
    main()
