"""The body pallet's CLI sends to `POST /containers/create` under a remote context decodes, in
the API, back into the CreateRequest the CLI built from its flags: `client.create_body` is the
inverse of `api.create_body`, so a flag means the same thing on a local or a remote engine."""
from __future__ import annotations

import pytest

from pallet.api.create_body import create_request as decode
from pallet.cli import flags as fl
from pallet.cli.run_flags import RUN_FLAGS, create_request
from pallet.client.create_body import create_body

FLAG_SETS = [
    ["busybox"],
    ["--name", "web", "-e", "A=1", "-e", "B=two words", "-w", "/srv", "-u", "1000:1000", "-h", "box",
     "-l", "tier=web", "-t", "-i", "--rm", "--read-only", "busybox", "sh", "-c", "echo hi"],
    ["--entrypoint", "", "busybox", "true"],
    ["--entrypoint", "/bin/echo", "busybox", "a", "b"],
    ["-v", "/srv:/data:ro", "-v", "named:/named", "-v", "/anon", "--tmpfs", "/run:size=1m",
     "--mount", "type=bind,source=/etc,target=/host-etc,readonly", "--mount", "type=volume,target=/vol", "busybox"],
    ["-p", "8080:80", "-p", "127.0.0.1::53/udp", "--expose", "9000", "-P", "busybox"],
    ["--restart", "on-failure:3", "--stop-signal", "SIGUSR1", "--stop-timeout", "7", "--init", "busybox"],
    ["--memory", "64m", "--memory-swap", "128m", "--cpus", "1.5", "--cpu-shares", "512", "--pids-limit", "50",
     "--ulimit", "nofile=1024:2048", "--shm-size", "32m", "--cpuset-cpus", "0", "busybox"],
    ["--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD", "--security-opt", "no-new-privileges", "--privileged",
     "--sysctl", "net.ipv4.ip_forward=1", "--oom-score-adj", "100", "--group-add", "10", "busybox"],
    ["--network", "none", "--dns", "1.1.1.1", "--dns-search", "example.org", "--add-host", "db:10.0.0.2",
     "--network-alias", "web", "--ip", "10.88.0.9", "busybox"],
    ["--health-cmd", "true", "--health-interval", "5s", "--health-retries", "2", "--log-driver", "none",
     "--log-opt", "max-size=1m", "busybox"],
    ["--no-healthcheck", "--pid", "host", "--ipc", "private", "--uts", "host", "busybox"],
    ["--domainname", "example.org", "--cgroupns", "private", "--userns", "host", "--oom-kill-disable",
     "--memory-swappiness", "0", "--kernel-memory", "8m", "--blkio-weight", "300",
     "--annotation", "a.b=c", "--mac-address", "02:42:ac:11:00:09", "--ip6", "fd00::9", "busybox"],
]


def _normalised(req) -> dict:
    doc = dict(vars(req))
    doc["mounts"] = [(m.type, m.source, m.target, m.read_only,
                      {k: v for k, v in m.options.items() if k not in ("mode", "labels", "driver_opts", "driver")})
                     for m in req.mounts]
    network = dict(doc["extra"]["network"])
    published = {p.key for p in req.ports}  # docker/cli lists them in ExposedPorts too
    network["expose"] = sorted(set(network.get("expose") or []) - published)
    doc["extra"] = {**doc["extra"], "network": network}
    doc["network"] = req.network
    return doc


@pytest.mark.parametrize("argv", FLAG_SETS, ids=lambda a: " ".join(a)[:40])
def test_the_create_body_decodes_back_into_the_request_the_flags_made(argv):
    opts, args = fl.parse(fl.Command("container create", "", "", None, RUN_FLAGS, interspersed=False), argv)
    sent = create_request(opts, args)
    received = decode(create_body(sent), sent.name)
    assert _normalised(received) == _normalised(sent)


@pytest.mark.parametrize("host, message", [
    ({"CgroupnsMode": "shared"}, "invalid cgroup namespace mode: shared"),
    ({"UsernsMode": "keep-id"}, "invalid UsernsMode: keep-id"),
    ({"OomKillDisable": "yes"}, "json: cannot unmarshal string into Go struct field HostConfig.OomKillDisable "
                                "of type bool"),
    ({"BlkioDeviceReadBps": [{"Path": "/dev/sda"}]}, "json: cannot unmarshal HostConfig.BlkioDeviceReadBps: "
                                                     "want {Path, Rate}"),
])
def test_the_api_refuses_a_bad_setting_in_one_line(host, message):
    from pallet.errors import InvalidArgument
    with pytest.raises(InvalidArgument) as caught:
        decode({"Image": "busybox", "HostConfig": host}, None)
    assert str(caught.value) == message
