"""One meaning, one decoder: `docker create FLAGS` through the API and `pallet create FLAGS`
make the same container. docker/cli turns its flags into the create body, pallet's CLI into
a CreateRequest, and the API decodes the body into the same request: inspect must agree
(IDs, names, times and the paths named after them aside)."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("no_leaks")

FLAGS = [
    [],
    ["-e", "A=1", "-e", "B=two words"],
    ["-w", "/tmp", "-u", "nobody", "--hostname", "box"],
    ["-l", "a=b", "--label", "c="],
    ["-t", "-i"],
    ["--rm"],
    ["--read-only"],
    ["-v", "/tmp:/mnt:ro"],
    ["-v", "pvol:/data"],
    ["--mount", "type=bind,source=/tmp,target=/b,readonly"],
    ["--mount", "type=tmpfs,target=/t,tmpfs-size=1048576"],
    ["--tmpfs", "/run:size=1m"],
    ["--stop-signal", "SIGUSR1", "--stop-timeout", "5"],
    ["--init"],
    ["--network", "none"],
    ["--privileged"],
    ["--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN"],
    ["--security-opt", "no-new-privileges"],
    ["--log-opt", "max-size=1m"],
    ["--restart", "on-failure:3"],
    ["--restart", "unless-stopped"],
    ["-p", "127.0.0.1:18080:80"],
    ["--expose", "80", "-P"],
    ["-m", "64m", "--memory-swap", "128m"],
    ["--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0"],
    ["--pids-limit", "50"],
    ["--ulimit", "nofile=100:200"],
    ["--group-add", "10"],
    ["--shm-size", "32m"],
    ["--pid", "host", "--ipc", "host", "--uts", "host"],
    ["--sysctl", "net.ipv4.ip_forward=1"],
    ["--oom-score-adj", "100"],
    ["--cpu-period", "100000", "--cpu-quota", "50000", "--memory-reservation", "32m"],
    ["--dns", "1.1.1.1", "--dns-search", "example.com", "--dns-option", "ndots:2"],
    ["--add-host", "h:1.2.3.4"],
    ["--entrypoint", "echo"],
    ["--entrypoint", ""],
    ["--health-cmd", "true", "--health-interval", "5s", "--health-retries", "2"],
    ["--no-healthcheck"],
    ["--device", "/dev/null:/dev/mynull"],
    ["--domainname", "example.org", "--cgroupns", "private", "--userns", "host"],
    ["--oom-kill-disable", "-m", "64m", "--memory-swappiness", "0"],
    ["--annotation", "org.example.k=v", "--blkio-weight", "300", "--kernel-memory", "8m"],
    ["--mac-address", "02:42:ac:11:00:09"],
]

# named after the container, or its moment: they differ between any two containers
_VOLATILE = {"Id", "Name", "Created", "ResolvConfPath", "HostnamePath", "HostsPath", "LogPath", "GraphDriver",
             "State", "NetworkSettings"}


def _normal(doc: dict) -> dict:
    out = {k: v for k, v in doc.items() if k not in _VOLATILE}
    config = dict(out["Config"])
    if config.get("Hostname") == doc["Id"][:12]:
        config["Hostname"] = "<id>"
    # docker/cli 28 passes -e values through a Go map: their order in the body varies from run
    # to run (dockerd stores what it gets), so only the set of variables can be compared
    config["Env"] = sorted(config.get("Env") or [])
    out["Config"] = config
    return out


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: " ".join(f) or "no-flags")
def test_docker_create_and_pallet_create_make_the_same_container(api, pallet, busybox, flags):
    api.docker_ok("create", "--name", "via-api", *flags, "busybox", "sh")
    pallet.ok("create", "--name", "via-cli", *flags, "busybox", "sh")
    via_api = json.loads(pallet.ok("inspect", "via-api").out)[0]
    via_cli = json.loads(pallet.ok("inspect", "via-cli").out)[0]
    a, c = _normal(via_api), _normal(via_cli)
    differ = {f"{part}.{k}": (a[part].get(k), c[part].get(k)) for part in ("Config", "HostConfig")
              for k in set(a[part]) | set(c[part]) if a[part].get(k) != c[part].get(k)}
    assert not differ, differ
    assert a == c
    pallet.ok("rm", "-v", "via-api", "via-cli")
