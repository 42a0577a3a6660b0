"""docker-py (PyPI `docker`), the Python client most tools are built on, against
`pallet system service`."""
from __future__ import annotations

import time

import docker
import pytest

pytestmark = pytest.mark.usefixtures("no_leaks")


@pytest.fixture
def client(api):
    c = docker.DockerClient(base_url=api.url, version="auto", timeout=60)
    try:
        yield c
    finally:
        c.close()


def test_docker_py_run_with_remove_returns_the_output(client, pallet, busybox):
    assert client.containers.run("busybox", ["sh", "-c", "echo hello"], remove=True) == b"hello\n"
    assert pallet.ok("ps", "-aq").out == ""


def test_docker_py_run_nonzero_exit_raises_container_error_with_stderr(client, busybox):
    with pytest.raises(docker.errors.ContainerError) as info:
        client.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 2"], remove=True)
    assert info.value.exit_status == 2 and b"bad" in info.value.stderr


def test_docker_py_detached_container_logs_exec_and_removal(client, pallet, busybox):
    c = client.containers.run("busybox", ["sh", "-c", "echo started; sleep 60"], detach=True, name="py")
    assert c.name == "py" and pallet.ok("inspect", "-f", "{{.State.Running}}", "py").out == "true\n"
    deadline = time.monotonic() + 5
    while b"started" not in c.logs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.logs() == b"started\n"
    result = c.exec_run(["sh", "-c", "echo out; echo err >&2; exit 5"])
    assert result.exit_code == 5 and b"out" in result.output and b"err" in result.output
    out, err = c.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True).output
    assert (out, err) == (b"out\n", b"err\n")
    c.stop(timeout=0)
    c.reload()
    assert c.status == "exited"
    c.remove()
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("py")


def test_docker_py_images_list_get_and_missing(client, busybox):
    images = client.images.list()
    assert [i.id for i in images] == [busybox]
    assert images[0].tags == ["busybox:latest"]
    assert client.images.get("busybox").id == busybox
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("nosuch:1")
    assert client.ping() is True
    assert client.version()["ApiVersion"] == "1.50"
