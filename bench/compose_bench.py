"""`pallet compose` beside docker-compose on dockerd and podman-compose on podman (issue 17).

Usage (root): .venv/bin/python bench/compose_bench.py [--runs N]

The project: one service built from a Dockerfile (cached after the warm-up), two services
behind health-gated dependencies (checks every 0.5 s, so `up -d` includes waiting for the
first healthy result where the tool honours the condition), two more plain services and one
named volume. Every figure is a compose CLI process run to completion: `up -d` from nothing
(after `down`), a no-op `up -d` and `ps` with everything running and unchanged, `down` from
everything running. Engines take turns round by round (rotating order); medians.

Fairness and the rules of this shared machine (bench/README.md):
- dockerd is the private one of engines.py (`--bridge=none`, no iptables), and podman's
  netavark would add iptables rules, so the compared project runs every service with
  `network_mode: none`; pallet alone is also measured with the project's user network
  (`pallet (network)`), which is what the issue's project has.
- the Dockerfile has no RUN (COPY only): a RUN under docker's classic builder and podman
  would need a network; every engine builds once, untimed, and is cached from then on.
- podman's flags (`--runtime runc --cgroup-manager cgroupfs`, private root) go through a
  wrapper script given to podman-compose as `--podman-path`; the ulimits podman needs here
  are in the project (`ulimits:`), the same for every engine.
- docker-compose is Debian's 1.29.2 (Python; the Go compose v2 plugin is not packaged) and
  podman-compose Debian's 1.0.3, which ignores `condition: service_healthy` (ordering only),
  sleeps 1 s after each `podman run` it issues (its `Podman.run(..., sleep=1)`: most of its
  `up -d`), has no config hash (a no-op `up -d` issues every `podman run` again, which fails on the
  taken name and falls back to `podman start`, with the same sleeps) and creates a pod
  per project. Results: bench/results/compose.json.
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import textwrap
from pathlib import Path

import harness as h
import engines as en

SERVICES = """
x-fast: &fast
  image: busybox
  stop_signal: SIGKILL
  ulimits: {nofile: 1024, nproc: 1024}
  NET
services:
  db:
    <<: *fast
    command: ["sleep", "600"]
    healthcheck: {test: ["CMD", "true"], interval: INTERVALms}
    volumes: ["data:/data"]
  cache:
    <<: *fast
    command: ["sleep", "600"]
    healthcheck: {test: ["CMD", "true"], interval: INTERVALms}
  app:
    <<: *fast
    image: bench5-app
    build: ./app
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_healthy}
  worker:
    <<: *fast
    command: ["sleep", "600"]
    depends_on: [app]
  web:
    <<: *fast
    command: ["sleep", "600"]
    depends_on: [app]
volumes:
  data: {}
"""
NO_NETWORK = SERVICES.replace("NET", "network_mode: none")
WITH_NETWORK = SERVICES.replace("NET", "networks: [back]") + "networks:\n  back: {}\n"
STEPS = ("up -d", "up -d (no-op)", "ps", "down")


def project(root: Path, name: str, text: str) -> Path:
    """The project directory (its name is the project's name)."""
    (root / name / "app").mkdir(parents=True)
    (root / name / "app" / "Dockerfile").write_text('FROM busybox\nCOPY built /built\nCMD ["sleep", "600"]\n')
    (root / name / "app" / "built").write_text("built\n")
    (root / name / "compose.yaml").write_text(textwrap.dedent(text))
    return root / name


def tools(work: Path, engines: dict[str, en.Engine], skipped: dict[str, str]) -> dict[str, tuple[list[str], dict]]:
    """Each compared tool: (argv prefix run in its project directory, environment)."""
    env = dict(os.environ)
    out: dict[str, tuple[list[str], dict]] = {}
    if "pallet" in engines:
        out["pallet"] = (engines["pallet"].argv("compose"), env)
        out["pallet (network)"] = (engines["pallet"].argv("compose"), env)
    if "docker" in engines:
        if shutil.which("docker-compose"):
            out["docker-compose"] = (["docker-compose"], {**env, "DOCKER_HOST": f"unix://{engines['docker'].sock}"})
        else:
            skipped["docker-compose"] = "docker-compose is not installed (apt-get install docker-compose)"
    if "podman" in engines:
        if shutil.which("podman-compose"):
            wrapper = work / "podman-wrapper"
            wrapper.write_text(f"#!/bin/sh\nexec {shlex.join(engines['podman'].argv())} \"$@\"\n")
            wrapper.chmod(0o755)
            out["podman-compose"] = (["podman-compose", "--podman-path", str(wrapper)], env)
        else:
            skipped["podman-compose"] = "podman-compose is not installed (apt-get install podman-compose)"
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--engines", default="pallet,docker,podman")
    ap.add_argument("--health-interval-ms", type=int, default=500,
                    help="the two gated services' healthcheck interval: every tool waits about this "
                         "long for the gate, so a shorter one shows more of each tool's own cost")
    args = ap.parse_args()
    work = h.workdir("compose")
    setup = en.Engines(work, args.engines.split(","), h.busybox_tar(work))
    with setup as engines:
        skipped = dict(setup.skipped)
        compared = tools(work, engines, skipped)
        text = {net: (WITH_NETWORK if net else NO_NETWORK).replace("INTERVAL", str(args.health_interval_ms))
                for net in (True, False)}
        dirs = {name: project(work / "projects" / name.split()[0], "bench5net" if "network" in name else "bench5",
                              text["network" in name]) for name in compared}
        results = h.summary(measure(compared, dirs, args.runs))
    ratios = {}
    for s in ("up -d", "down"):
        others = [results[f"{n}/{s}"]["median"] for n in compared if not n.startswith("pallet")]
        if others and f"pallet/{s}" in results:
            ratios[s] = results[f"pallet/{s}"]["median"] / min(others)
    h.save("compose" if args.health_interval_ms == 500 else f"compose-health-{args.health_interval_ms}ms", {
        "project": "5 services (1 build, 2 health-gated dependencies, 1 volume; "
                   "network_mode none for the comparison, 1 user network for 'pallet (network)')",
        "health_interval_s": args.health_interval_ms / 1000, "runs": args.runs, "tools": list(compared),
        "versions": versions(compared), "skipped": skipped,
        "pallet_vs_best_other": ratios, "results": results})


def measure(compared: dict, dirs: dict, runs: int) -> dict[str, list[float]]:
    """Round by round (rotating order), each tool: `up -d`, `up -d` again, `ps`, `down`.
    Round 0 is the warm-up; every project is taken down with its volumes at the end."""
    def step(name: str, *verb: str) -> float:
        argv, env = compared[name]
        return h.timed(argv + list(verb), env=env, cwd=dirs[name])

    samples: dict[str, list[float]] = {f"{name}/{s}": [] for name in compared for s in STEPS}
    names = list(compared)
    try:
        for name in names:
            step(name, "build")  # cached from here on
        for i in range(runs + 1):
            for name in names[i % len(names):] + names[:i % len(names)]:
                times = (step(name, "up", "-d"), step(name, "up", "-d"), step(name, "ps"), step(name, "down"))
                for s, t in zip(STEPS, times):
                    if i:
                        samples[f"{name}/{s}"].append(t)
    finally:
        for name, (argv, env) in compared.items():
            subprocess.run(argv + ["down", "-v"], env=env, cwd=dirs[name],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return samples


def versions(compared: dict) -> dict:
    out = {}
    for name, argv in (("docker-compose", ["docker-compose", "version", "--short"]),
                       ("podman-compose", ["podman-compose", "version"])):
        if name in compared:
            res = subprocess.run(argv, capture_output=True, text=True)
            lines = [ln for ln in res.stdout.splitlines() if ln.startswith(("docker-compose", "podman-compose", "1."))]
            out[name] = (lines or [res.stdout.strip()])[0].split()[-1]
    return out


if __name__ == "__main__":
    main()
