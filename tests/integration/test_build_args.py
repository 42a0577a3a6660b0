"""Build args as BuildKit has them: the automatic platform args, one ARG name in two stages,
and `COPY --from` keyed on what it copies."""
from __future__ import annotations

import json
import os

from test_build import write_context

HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)

PLATFORM = """FROM busybox AS base-amd64
RUN echo amd64 > /which
FROM busybox AS base-arm64
RUN echo arm64 > /which
FROM base-${TARGETARCH}
RUN echo "[$TARGETARCH]" > /undeclared
ARG TARGETARCH
ARG TARGETPLATFORM TARGETOS TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH
RUN echo "$TARGETPLATFORM|$TARGETOS|$TARGETARCH|$TARGETVARIANT|$BUILDPLATFORM|$BUILDOS|$BUILDARCH" > /p
"""


def test_platform_args_are_automatic_in_from_and_after_arg_in_a_stage(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": PLATFORM})
    pallet.ok("build", "-q", "-t", "plat", str(ctx))
    out = pallet.ok("run", "--rm", "plat", "cat", "/which", "/undeclared", "/p").lines
    plat = f"linux/{HOST_ARCH}"
    # FROM sees them undeclared; in a stage only after `ARG TARGETARCH` (BuildKit's scoping)
    assert out == [HOST_ARCH, "[]", f"{plat}|linux|{HOST_ARCH}||{plat}|linux|{HOST_ARCH}"]


TWO_STAGES = """FROM busybox AS builder
ARG VERSION=0.0.0
RUN echo "[$VERSION]" > /v
FROM busybox
ARG VERSION=1.0.0
RUN echo "[$VERSION]" > /v
"""


def test_one_arg_name_with_two_values_in_two_stages_shares_no_cache_entry(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": TWO_STAGES})
    pallet.ok("build", "-q", "-t", "builder", "--target", "builder", str(ctx))
    for _ in range(2):  # built cold after the builder stage is cached, then all from the cache
        pallet.ok("build", "-q", "-t", "final", str(ctx))
        assert pallet.ok("run", "--rm", "builder", "cat", "/v").out == "[0.0.0]\n"
        assert pallet.ok("run", "--rm", "final", "cat", "/v").out == "[1.0.0]\n"
        history = pallet.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", "final").lines
        assert history[:2] == ['|1 VERSION=1.0.0 /bin/sh -c echo "[$VERSION]" > /v',
                               "/bin/sh -c #(nop)  ARG VERSION=1.0.0"]
    r = pallet.ok("build", "-q", "-t", "other", "--build-arg", "VERSION=2", str(ctx))
    assert pallet.ok("run", "--rm", "other", "cat", "/v").out == "[2]\n"


COPY_FROM = """FROM busybox AS builder
COPY a.txt /out/a
COPY b.txt /b
FROM busybox
COPY --from=builder /out /out
RUN cat /out/a > /copied
"""


def test_copy_from_a_stage_is_keyed_on_the_content_copied(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": COPY_FROM, "a.txt": "a1\n", "b.txt": "b1\n"})
    first = pallet.ok("build", "-q", str(ctx)).out.strip()
    (ctx / "b.txt").write_text("b2\n")  # the builder stage changes, /out does not
    assert pallet.ok("build", "-q", str(ctx)).out.strip() == first
    (ctx / "a.txt").write_text("a2\n")
    third = pallet.ok("build", "-q", "-t", "app", str(ctx)).out.strip()
    assert third != first and pallet.ok("run", "--rm", "app", "cat", "/copied").out == "a2\n"
    layers = json.loads(pallet.ok("image", "inspect", "app").out)[0]["RootFS"]["Layers"]
    assert len(layers) == 3  # busybox, the copy, the RUN: nothing of the builder's /b


RUN_LIMITS = """FROM busybox
RUN grep myhost /etc/hosts; ulimit -n; df -k /dev/shm | tail -1 | awk '{print $2}'; \\
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes; grep Seccomp: /proc/self/status
"""


def test_build_run_options_reach_every_run_container(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": RUN_LIMITS})
    r = pallet.ok("build", "--progress=classic", "--add-host", "myhost:10.1.2.3", "--ulimit", "nofile=512:512",
                  "--shm-size", "16m", "-m", "64m", "--security-opt", "seccomp=unconfined", str(ctx))
    out = r.out.splitlines()
    start = out.index(next(line for line in out if line.startswith(" ---> Running in"))) + 1
    assert out[start:start + 5] == ["10.1.2.3\tmyhost", "512", "16384", "67108864", "Seccomp:\t0"]
    r = pallet("build", "--add-host", "nocolon", str(ctx))
    assert r.code == 125 and 'bad format for add-host: "nocolon"' in r.err


def test_build_platform_is_the_hosts_only(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": "FROM busybox\n"})
    pallet.ok("build", "-q", "--platform", f"linux/{HOST_ARCH}", str(ctx))
    other = "arm64" if HOST_ARCH != "arm64" else "amd64"
    r = pallet("build", "--platform", f"linux/{other}", str(ctx))
    assert r.code == 1 and "pallet builds for the host platform only" in r.err
