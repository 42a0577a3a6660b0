"""`pallet compose` (issue 17): `up -d`, `down`, a no-op `up -d` and `ps` of a 5-service project.

Usage (root): .venv/bin/python bench/compose_bench.py [--runs N]

The project: one service built from a Dockerfile (cached after the warm-up), two services
behind health-gated dependencies (checks every 0.5 s, so `up -d` includes waiting for the
first healthy result, as docker compose's would), one more plain service, one user
network and one named volume. Every figure is a `pallet compose` process run to
completion. `up -d` is measured from nothing (after `down`), `down` from everything
running, the no-op `up -d` and `ps` with everything running and unchanged.
docker compose on dockerd and podman-compose are not run here: the machine has neither a
compose plugin nor podman-compose, and the private dockerd of bench/engines.py runs
without bridges. Results: bench/results/compose.json.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import textwrap

import harness as h
import engines as en

PROJECT = """
x-fast: &fast
  image: busybox
  stop_signal: SIGKILL
services:
  db:
    <<: *fast
    command: ["sleep", "600"]
    healthcheck: {test: ["CMD", "true"], interval: 500ms}
    volumes: ["data:/data"]
    networks: [back]
  cache:
    <<: *fast
    command: ["sleep", "600"]
    healthcheck: {test: ["CMD", "true"], interval: 500ms}
    networks: [back]
  app:
    build: ./app
    stop_signal: SIGKILL
    command: ["sleep", "600"]
    networks: [back]
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_healthy}
  worker:
    <<: *fast
    command: ["sleep", "600"]
    networks: [back]
    depends_on: [app]
  web:
    <<: *fast
    command: ["sleep", "600"]
    networks: [back]
    depends_on: [app]
networks:
  back: {}
volumes:
  data: {}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    work = h.workdir("compose")
    pallet = en.Pallet(work)
    try:
        project = work / "bench5"
        (project / "app").mkdir(parents=True)
        (project / "app" / "Dockerfile").write_text("FROM busybox\nRUN echo built > /built\n")
        (project / "compose.yaml").write_text(textwrap.dedent(PROJECT))
        subprocess.run(pallet.argv("import", "-c", 'CMD ["sh"]', str(h.busybox_tar(work)), "busybox:latest"),
                       check=True, stdout=subprocess.DEVNULL)
        compose = pallet.argv("compose", "--project-directory", str(project))
        env = {**os.environ, "PATH": os.environ.get("PATH", "")}
        h.timed(compose + ["build"], env=env)  # everything cached from here on
        samples: dict[str, list[float]] = {"up -d": [], "up -d (no-op)": [], "ps": [], "down": []}
        for i in range(args.runs + 1):
            up = h.timed(compose + ["up", "-d"], env=env)
            noop = h.timed(compose + ["up", "-d"], env=env)
            ps = h.timed(compose + ["ps"], env=env)
            down = h.timed(compose + ["down"], env=env)
            if i == 0:
                continue  # warm-up
            for name, t in (("up -d", up), ("up -d (no-op)", noop), ("ps", ps), ("down", down)):
                samples[name].append(t)
        h.timed(compose + ["down", "-v"], env=env)
        h.save("compose", {"project": "5 services (1 build, 2 health-gated dependencies, 1 network, 1 volume)",
                           "health_interval_s": 0.5, "engines": ["pallet"],
                           "skipped": ["docker compose (no compose plugin here)", "podman-compose (not installed)"],
                           "results": h.summary(samples)})
    finally:
        pallet.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
