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


def test_exec_resize_after_start_reaches_the_running_process_terminal(client, pallet, busybox):
    """POST /exec/{id}/resize while a -t exec runs: the process's console takes the size
    (runc applies it on a SIGWINCH of its own, so the shell asks until it sees it)."""
    container = client.containers.run("busybox", ["sleep", "60"], detach=True)
    exec_id = client.api.exec_create(container.id, ["sh"], stdin=True, tty=True)["Id"]
    sock = client.api.exec_start(exec_id, tty=True, socket=True)._sock
    sock.settimeout(0.3)
    client.api.exec_resize(exec_id, height=33, width=101)
    seen, deadline = b"", time.monotonic() + 10
    while b"33 101" not in seen:
        assert time.monotonic() < deadline, f"the size never arrived: {seen[-300:]!r}"
        sock.sendall(b"stty size\n")
        try:
            while True:
                chunk = sock.recv(4096)
                assert chunk, f"the exec ended first: {seen!r}"
                seen += chunk
        except TimeoutError:
            pass
    sock.sendall(b"exit 0\n")
    sock.close()
    while client.api.exec_inspect(exec_id)["Running"] and time.monotonic() < deadline + 10:
        time.sleep(0.05)
    assert client.api.exec_inspect(exec_id)["ExitCode"] == 0
    container.remove(force=True)
