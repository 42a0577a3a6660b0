"""`POST /containers/{id}/wait` as `docker run` uses it: asked before the start, answered
once the container has exited (next-exit) or is gone (removed, for --rm)."""
from __future__ import annotations

import json
import threading

from api_service import ApiService, UnixHTTPConnection


def _wait_in_background(sock: str, cid: str, condition: str) -> tuple[threading.Thread, dict]:
    """Ask to wait, read the answer's head (dockerd sends it at once), then the body in a
    thread; `out` holds the decoded body when the thread ends."""
    conn = UnixHTTPConnection(sock, timeout=60)
    conn.request("POST", f"/v1.50/containers/{cid}/wait?condition={condition}")
    resp = conn.getresponse()
    assert resp.status == 200
    out: dict = {}

    def read():
        out.update(json.loads(resp.read()))
        conn.close()
    t = threading.Thread(target=read)
    t.start()
    return t, out


def _events(pallet, cid: str) -> list[str]:
    r = pallet.ok("events", "--since", "0", "--until", "0s", "--filter", f"container={cid}",
                  "--format", "{{.Action}}")
    return r.out.split()


def test_wait_removed_asked_before_start_answers_once_an_rm_container_is_gone(pallet, busybox, tmp_path):
    svc = ApiService(pallet, tmp_path / "w.sock")
    try:
        status, _, body = svc.request("POST", "/v1.50/containers/create", {
            "Image": "busybox", "Cmd": ["sh", "-c", "sleep 0.3; exit 3"], "HostConfig": {"AutoRemove": True}})
        cid = json.loads(body)["Id"]
        waiter, out = _wait_in_background(str(svc.sock), cid, "removed")
        assert svc.request("POST", f"/v1.50/containers/{cid}/start")[0] == 204
        waiter.join(30)
        assert out == {"StatusCode": 3, "Error": None}
        assert svc.request("GET", f"/v1.50/containers/{cid}/json")[0] == 404  # gone when answered
        # the waiter recorded the exit and removed it; conmon's exit command found that done
        assert _events(pallet, cid) == ["create", "start", "die", "destroy"]
    finally:
        svc.stop()


def test_wait_next_exit_of_a_container_the_cli_starts_gives_its_exit_code(pallet, busybox, tmp_path):
    svc = ApiService(pallet, tmp_path / "n.sock")
    try:
        cid = pallet.ok("create", "busybox", "sh", "-c", "sleep 0.5; exit 7").out.strip()
        waiter, out = _wait_in_background(str(svc.sock), cid, "next-exit")
        pallet.ok("start", cid)  # another process starts it: the waiter sees it by reading
        waiter.join(30)
        assert out == {"StatusCode": 7, "Error": None}
        doc = pallet.ok("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", cid).out.strip()
        assert doc == "exited 7"
        pallet.ok("rm", cid)
    finally:
        svc.stop()
