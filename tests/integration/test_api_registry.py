"""docker pull / push through `pallet system service`, against Debian's docker-registry on
loopback: the JSON progress stream docker/cli renders, and run pulling a missing image."""
from __future__ import annotations

import pytest

from registry_fixtures import docker_config, registry  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("no_leaks")


def test_docker_push_then_pull_and_run_pulls_what_is_missing(docker_config, registry, api, pallet, busybox):
    name = f"{registry.host}/api/bb"
    api.docker_ok("tag", "busybox", name)
    r = api.docker_ok("push", name)
    assert "Pushed" in r.out and "latest: digest: sha256:" in r.out
    api.docker_ok("rmi", name)
    r = api.docker_ok("pull", name)
    assert f"Status: Downloaded newer image for {name}:latest" in r.out or "Image is up to date" in r.out
    assert r.out.strip().endswith(f"{name}:latest")
    api.docker_ok("rmi", name)
    r = api.docker("run", "--rm", name, "echo", "pulled")
    assert (r.code, r.out) == (0, "pulled\n"), r.err
    assert f"Unable to find image '{name}:latest' locally" in r.err
    r = api.docker("pull", f"{registry.host}/api/nosuch")
    assert r.code == 1 and "manifest unknown" in r.err
