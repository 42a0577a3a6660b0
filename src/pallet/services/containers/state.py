"""A container's State: transitions recorded in the record, and the live facts folded in.

`refresh` never writes: it reads the exit file conmon leaves and whether the
monitor still lives, so `ps` and `inspect` are right even before the exit
command has run, and after a reboot wiped the runroot (the container then
shows as Exited and can be started again). Writes happen in cleanup/start.
"""
from __future__ import annotations

from ...oci.image import now_rfc3339

ZERO_TIME = "0001-01-01T00:00:00Z"
UNKNOWN_EXIT = 255  # the monitor vanished without recording one (reboot, kill -9 of conmon)


def new_state() -> dict:
    return {"Status": "created", "Running": False, "Paused": False, "Restarting": False,
            "OOMKilled": False, "Dead": False, "Pid": 0, "ExitCode": 0, "Error": "",
            "StartedAt": ZERO_TIME, "FinishedAt": ZERO_TIME}


def mark_running(record: dict, pid: int) -> None:
    record["State"].update(Status="running", Running=True, Paused=False, Restarting=False, Pid=pid, ExitCode=0,
                           Error="", StartedAt=now_rfc3339(), FinishedAt=ZERO_TIME, OOMKilled=False)
    record.pop("_stopped_by_user", None)


def mark_exited(record: dict, code: int, finished: str, oom: bool = False) -> None:
    record["State"].update(Status="exited", Running=False, Paused=False, Pid=0, ExitCode=code,
                           FinishedAt=finished, OOMKilled=oom)


def mark_failed(record: dict, exc) -> None:
    """A start that could not run the command: Docker leaves it Created with the exit code."""
    record["State"].update(ExitCode=exc.exit_code, Error=str(exc))


def monitor_alive(svc, cid: str) -> bool:
    pid = svc.monitor.conmon_pid(svc.userdata(cid))
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    # "<pid> (<comm>) <state> ...": a zombie conmon is as dead as a missing one
    comm, _, rest = stat.partition("(")[2].rpartition(")")
    return comm == "conmon" and rest.split()[0] not in ("Z", "X")


def refresh(svc, record: dict) -> dict:
    state = record["State"]
    if not state["Running"]:
        return record
    cid = record["Id"]
    code = svc.monitor.exit_code(cid)
    if code is None and monitor_alive(svc, cid):
        _fold_in_freezer(record)
        return record
    finished = ZERO_TIME
    try:
        finished = _ts(svc.monitor.exit_path(cid).stat().st_mtime)
    except OSError:
        finished = state.get("StartedAt", ZERO_TIME)
    mark_exited(record, UNKNOWN_EXIT if code is None else code, finished,
                svc._oom_killed(cid))  # the cgroup's count, until cleanup deletes it
    return record


def _fold_in_freezer(record: dict) -> None:
    """Paused is what the freezer says (as ``runc state`` reads it), not what the record
    says: a `pause`, `unpause` or `commit` killed between runc and the record's update
    leaves them apart, and a command that believed the record would refuse to unpause a
    frozen container or try to exec in one."""
    from ...runtime.cgroups import Cgroup
    from ...runtime.spec import cgroups_path
    frozen = Cgroup(cgroups_path(record["Id"])).frozen()
    state = record["State"]
    if frozen is not None and frozen != state["Paused"]:
        state.update(Paused=frozen, Status="paused" if frozen else "running")


def _ts(t: float) -> str:
    from ...oci.image import rfc3339_ts
    return rfc3339_ts(t)
