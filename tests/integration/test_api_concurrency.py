"""Many clients at once on `pallet system service`: each gets its own answer, in order, and
sees what the CLI did the moment it did it (quick reads are answered by the service's loop,
everything else in a thread of its own; a connection moves between the two)."""
from __future__ import annotations

import json
import re
import socket
import threading

from api_service import ApiService, UnixHTTPConnection


def _get(conn: UnixHTTPConnection, path: str) -> tuple[int, dict]:
    conn.request("GET", path)
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def test_many_clients_at_once_each_get_their_own_container_while_a_stream_is_open(pallet, busybox, tmp_path):
    names = [f"conc{i}" for i in range(4)]
    ids = {n: pallet.ok("create", "--name", n, "busybox", "true").out.strip() for n in names}
    svc = ApiService(pallet, tmp_path / "c.sock")
    events = UnixHTTPConnection(str(svc.sock))  # a stream that never ends, held open throughout
    try:
        events.request("GET", "/v1.50/events")
        assert events.getresponse().status == 200
        wrong: list = []

        def client(i: int) -> None:
            name = names[i % len(names)]
            conn = UnixHTTPConnection(str(svc.sock))  # keep-alive: 25 requests on one connection
            for _ in range(25):
                status, doc = _get(conn, f"/v1.50/containers/{name}/json")
                if (status, doc.get("Id"), doc.get("Name")) != (200, ids[name], f"/{name}"):
                    wrong.append((name, status, doc))
            conn.close()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not wrong, wrong[:3]
        assert svc.proc.poll() is None
    finally:
        events.close()
        svc.stop()
        for n in names:
            pallet.ok("rm", n)


def test_pipelined_requests_are_answered_in_order(pallet, busybox, tmp_path):
    svc = ApiService(pallet, tmp_path / "p.sock")
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(svc.sock))
        s.settimeout(10)
        # a quick read, one that needs a thread (no such image: 404), then a quick read again
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"POST /images/nosuch/tag?repo=x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                  b"GET /v1.50/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        s.close()
        heads = re.findall(rb"HTTP/1\.1 \d+ [^\r]*", out)
        assert heads == [b"HTTP/1.1 200 OK", b"HTTP/1.1 404 Not Found", b"HTTP/1.1 200 OK"]
        assert out.index(b"OK") < out.index(b"No such image") < out.index(b'"ApiVersion"')
    finally:
        svc.stop()


def test_inspect_on_one_connection_sees_each_change_the_cli_and_the_api_make_at_once(pallet, busybox, tmp_path):
    svc = ApiService(pallet, tmp_path / "i.sock")
    conn = UnixHTTPConnection(str(svc.sock))
    try:
        cid = pallet.ok("run", "-d", "--name", "seen", "busybox", "sleep", "60").out.strip()
        status, doc = _get(conn, "/containers/seen/json")
        assert (status, doc["State"]["Status"], doc["Name"]) == (200, "running", "/seen")
        pallet.ok("rename", "seen", "seen2")  # the CLI changes the stored record
        assert _get(conn, f"/containers/{cid}/json")[1]["Name"] == "/seen2"
        conn.request("POST", f"/containers/{cid}/kill")  # the API, on the same connection
        assert conn.getresponse().read() == b""
        doc = _get(conn, f"/containers/{cid}/json")[1]  # the connection is back with the loop
        assert (doc["State"]["Status"], doc["State"]["ExitCode"]) == ("exited", 137)
        pallet.ok("rm", "seen2")
        status, doc = _get(conn, f"/containers/{cid}/json")
        assert (status, doc["message"]) == (404, f"No such container: {cid}")
    finally:
        conn.close()
        svc.stop()


def test_a_client_that_does_not_read_its_large_answer_holds_up_nobody(pallet, busybox, tmp_path):
    labels = [a for i in range(64) for a in ("--label", f"k{i}={'v' * 8192}")]  # inspect: ~0.5 MB
    cid = pallet.ok("create", *labels, "--name", "big", "busybox", "true").out.strip()
    svc = ApiService(pallet, tmp_path / "b.sock")
    try:
        slow = socket.socket(socket.AF_UNIX)
        slow.connect(str(svc.sock))
        slow.sendall(b"GET /containers/big/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        other = UnixHTTPConnection(str(svc.sock), timeout=10)  # answered while `slow` reads nothing
        for _ in range(5):
            assert _get(other, "/v1.50/version")[0] == 200
        other.close()
        slow.settimeout(10)
        out = b""
        while chunk := slow.recv(65536):
            out += chunk
        slow.close()
        head, _, body = out.partition(b"\r\n\r\n")
        doc = json.loads(body)
        assert head.startswith(b"HTTP/1.1 200") and doc["Id"] == cid and len(doc["Config"]["Labels"]) == 64
    finally:
        svc.stop()
        pallet.ok("rm", "big")
