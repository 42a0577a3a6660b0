"""`pallet system service` itself: where it listens, who may connect, when it exits."""
from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time

from api_service import ApiService


def _service(pallet, *argv: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root), "--runroot",
                           str(pallet.runroot), "system", "service", *argv],
                          capture_output=True, text=True, timeout=timeout)


def test_service_socket_is_0660_root_and_the_group_named(pallet, tmp_path):
    svc = ApiService(pallet, tmp_path / "s.sock", extra=("--group", "daemon"))
    try:
        st = os.stat(svc.sock)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660
        assert (st.st_uid, st.st_gid) == (0, 1)  # daemon is gid 1 on Debian
    finally:
        svc.stop()


def test_service_listens_on_the_runroot_socket_by_default_and_exits_when_idle(pallet):
    proc = subprocess.Popen([sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root), "--runroot",
                             str(pallet.runroot), "system", "service", "--timeout", "1"])
    try:
        sock = pallet.runroot / "pallet.sock"
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert proc.wait(15) == 0  # a second without a connection
        assert not sock.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_service_refuses_a_path_that_is_not_a_socket_and_leaves_it_alone(pallet, tmp_path):
    path = tmp_path / "file"
    path.write_text("keep me")
    r = _service(pallet, f"unix://{path}")
    assert (r.returncode, r.stderr) == (1, f"Error: can't create unix socket {path}: it exists and is not a socket\n")
    assert path.read_text() == "keep me"


def test_service_refuses_a_socket_another_service_listens_on(pallet, tmp_path):
    svc = ApiService(pallet, tmp_path / "s.sock")
    try:
        r = _service(pallet, svc.url)
        assert r.returncode == 1 and "another service is listening on it" in r.stderr
        assert svc.request("GET", "/_ping")[0] == 200
    finally:
        svc.stop()


def test_service_refuses_a_group_that_does_not_exist_and_makes_nothing(pallet, tmp_path):
    r = _service(pallet, "--group", "nosuchgroup", f"unix://{tmp_path}/g.sock")
    assert (r.returncode, r.stderr) == (1, "Error: can't create unix socket: group nosuchgroup not found\n")
    assert not (tmp_path / "g.sock").exists()


def test_service_refuses_a_port_in_use_and_a_public_address_without_tls(pallet):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        r = _service(pallet, f"tcp://127.0.0.1:{port}")
        assert (r.returncode, r.stderr) == (1, f"Error: listen tcp 127.0.0.1:{port}: bind: address already in use\n")
    finally:
        busy.close()
    r = _service(pallet, "tcp://0.0.0.0:2375")
    assert r.returncode == 1 and r.stderr.startswith("Error: refusing to listen on 0.0.0.0:2375 without TLS")


def test_service_on_loopback_tcp_serves_the_docker_cli(pallet, busybox):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    proc = subprocess.Popen([sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root), "--runroot",
                             str(pallet.runroot), "system", "service", "--timeout", "0", f"tcp://127.0.0.1:{port}"])
    try:
        env = {**os.environ, "DOCKER_HOST": f"tcp://127.0.0.1:{port}"}
        deadline = time.monotonic() + 20
        while subprocess.run(["docker", "version"], env=env, capture_output=True).returncode != 0:
            assert time.monotonic() < deadline, "the service did not answer on TCP"
            time.sleep(0.1)
        r = subprocess.run(["docker", "images", "--format", "{{.Repository}}"], env=env, capture_output=True, text=True)
        assert r.stdout == "busybox\n"
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_service_takes_a_socket_systemd_passes_with_fd_uri(pallet, tmp_path):
    sock = tmp_path / "activated.sock"
    proc = subprocess.Popen(["systemd-socket-activate", "-l", str(sock), sys.executable, "-m", "pallet.cli.main",
                             "--root", str(pallet.root), "--runroot", str(pallet.runroot),
                             "system", "service", "--timeout", "1", "fd://"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        env = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
        r = subprocess.run(["docker", "version", "--format", "{{.Server.APIVersion}}"], env=env,
                           capture_output=True, text=True, timeout=30)
        assert r.stdout == "1.50\n", r.stderr
        assert proc.wait(15) == 0  # idle for a second: the service exits
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_service_survives_garbage_huge_headers_and_clients_that_vanish(pallet, busybox, tmp_path):
    svc = ApiService(pallet, tmp_path / "r.sock")
    try:
        def raw(data: bytes) -> bytes:
            s = socket.socket(socket.AF_UNIX)
            s.connect(str(svc.sock))
            s.sendall(data)
            s.settimeout(10)
            out = b""
            try:
                while chunk := s.recv(65536):
                    out += chunk
            except (socket.timeout, ConnectionResetError):
                pass
            s.close()
            return out
        assert raw(b"\x00\xffnot http at all\r\n\r\n").startswith(b"HTTP/1.1 400")
        assert raw(b"GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n").startswith(b"HTTP/1.1 4")
        assert raw(b"GET /containers/\xff\xfe/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(
            b"HTTP/1.1 400")
        assert raw(b"GET /containers/%FF%FE/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(
            b"HTTP/1.1 404")
        status, _, body = svc.request("POST", "/containers/create", b"{" + b" " * (17 * 1024 * 1024) + b"}")
        assert status == 400 and b"too large" in body
        pallet.ok("run", "-d", "--name", "chatty", "busybox", "sh", "-c", "while true; do echo x; sleep 0.05; done")
        s = socket.socket(socket.AF_UNIX)  # follow the logs, then vanish mid-stream
        s.connect(str(svc.sock))
        s.sendall(b"GET /containers/chatty/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 200")
        s.close()
        assert svc.request("GET", "/_ping")[0] == 200
        assert svc.proc.poll() is None
        pallet.ok("rm", "-f", "chatty")
    finally:
        svc.stop()
