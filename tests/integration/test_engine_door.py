"""The engine is the one door: what `pallet` does, any edge (the coming API) gets by the same calls,
with the same rules, and no rule depends on the CLI having asked first."""
from __future__ import annotations

import pytest
from polling import wait_for

from pallet.errors import Conflict, InvalidArgument
from pallet.services.container_types import ExecRequest, ListRequest, LogsRequest


def test_rmi_through_the_engine_refuses_an_image_a_stopped_container_uses(pallet, busybox):
    cid = pallet.ok("create", "--network", "none", "busybox", "true").out.strip()
    engine = pallet.engine
    with pytest.raises(Conflict, match=f"is using its referenced image|stopped container {cid[:12]}"):
        engine.images.remove("busybox")
    untagged, deleted, _ = engine.images.prune(all_images=True)
    assert busybox not in deleted and engine.images.exists(busybox)
    removal = engine.images.remove("busybox", force=True)  # -f untags, and still keeps what cid needs
    assert removal.untagged == ["busybox:latest"] and removal.deleted == []
    assert engine.images.exists(busybox)


def test_ps_filters_are_checked_by_the_service(pallet, busybox):
    engine = pallet.engine
    with pytest.raises(InvalidArgument, match="invalid filter 'status=bogus'"):
        engine.containers.list(ListRequest(filters={"status": ["bogus"]}))
    with pytest.raises(InvalidArgument, match="invalid filter 'colour'"):
        engine.containers.list(ListRequest(filters={"colour": ["red"]}))
    cid = pallet.ok("create", "--network", "none", "--label", "tier=web", "busybox", "true").out.strip()
    found = engine.containers.list(ListRequest(all=True, filters={"label": ["tier=web"]}, size=True))
    assert [r["Id"] for r in found] == [cid] and found[0]["SizeRw"] == 0
    assert engine.containers.list(ListRequest(filters={"label": ["tier=web"]})) == []  # not running


def test_exec_logs_and_info_through_the_engine(pallet, busybox, tmp_path):
    cid = pallet.ok("run", "-d", "--network", "none", "busybox", "sh", "-c",
                    "echo one; echo two >&2; echo three; exec sleep 300").out.strip()
    engine = pallet.engine
    out = tmp_path / "out"
    with open(out, "wb") as f:
        assert engine.containers.exec(ExecRequest(cid, ["sh", "-c", "echo in; exit 7"]), stdout=f) == 7
    assert out.read_bytes() == b"in\n"
    assert wait_for(lambda: len(list(engine.containers.logs(LogsRequest(cid)))) == 3)
    records = list(engine.containers.logs(LogsRequest(cid)))
    # stdout and stderr are two pipes: their records interleave as conmon read them
    assert [r.data for r in records if r.stream == "stdout"] == [b"one\n", b"three\n"]
    assert [r.data for r in records if r.stream == "stderr"] == [b"two\n"]
    assert list(engine.containers.logs(LogsRequest(cid, tail=1))) == records[-1:]
    info = engine.system.info()
    assert (info["Containers"], info["ContainersRunning"], info["Images"]) == (1, 1, 1)
    pallet.ok("stop", "-t", "0", cid)
    with pytest.raises(Conflict, match=f"Container {cid} is not running"):
        engine.containers.exec(ExecRequest(cid, ["true"]))
