"""testcontainers-python (PyPI `testcontainers`) against `pallet system service`: a
DockerContainer with a published port and a log wait strategy, started and removed as a test
suite would. Its Ryuk reaper image cannot be pulled here; it is disabled, as its docs allow."""
from __future__ import annotations

import urllib.request

import pytest

pytestmark = pytest.mark.usefixtures("no_leaks")


def test_testcontainers_starts_waits_for_a_log_line_and_reaches_a_published_port(api, pallet, busybox,
                                                                               monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", api.url)
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy
    serve = "mkdir -p /www && echo hello-from-pallet > /www/index.html && echo ready && httpd -f -p 8000 -h /www"
    container = (DockerContainer("busybox").with_command(["sh", "-c", serve]).with_exposed_ports(8000)
                 .waiting_for(LogMessageWaitStrategy("ready")))
    with container:
        host, port = container.get_container_host_ip(), container.get_exposed_port(8000)
        with urllib.request.urlopen(f"http://{host}:{port}/index.html", timeout=10) as r:
            assert r.read() == b"hello-from-pallet\n"
        assert pallet.ok("ps", "-q").out.strip() == container.get_wrapped_container().id[:12]
    assert pallet.ok("ps", "-aq").out == ""
