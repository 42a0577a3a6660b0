"""ps STATUS and State.Status wording, as Docker prints them."""
from __future__ import annotations

from pallet.oci.image import rfc3339_ts
from pallet.dockerjson import columns
from pallet.services.containers import state as status

NOW = 1_800_000_000.0


def _record(**state):
    s = status.new_state()
    s.update(state)
    return {"State": s}


def test_created():
    assert columns.status_text(_record(), NOW) == "Created"


def test_up_for_a_while_and_paused():
    rec = _record(Status="running", Running=True, StartedAt=rfc3339_ts(NOW - 7200))
    assert columns.status_text(rec, NOW) == "Up 2 hours"
    rec["State"]["Paused"] = True
    assert columns.status_text(rec, NOW) == "Up 2 hours (Paused)"
    assert columns.docker_status(rec) == "paused"


def test_exited_with_code_and_age():
    rec = _record(Status="exited", ExitCode=3, FinishedAt=rfc3339_ts(NOW - 180))
    assert columns.status_text(rec, NOW) == "Exited (3) 3 minutes ago"


def test_restarting_during_the_back_off():
    rec = _record(Status="restarting", Restarting=True, ExitCode=1, FinishedAt=rfc3339_ts(NOW - 2))
    assert columns.status_text(rec, NOW) == "Restarting (1) 2 seconds ago"
    assert columns.docker_status(rec) == "restarting"


def test_health_suffix():
    rec = _record(Status="running", Running=True, StartedAt=rfc3339_ts(NOW - 300),
                  Health={"Status": "healthy"})
    assert columns.status_text(rec, NOW) == "Up 5 minutes (healthy)"
