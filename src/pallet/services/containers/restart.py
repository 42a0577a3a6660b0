"""Restart policies (`--restart no|on-failure[:N]|always|unless-stopped`) without a daemon.

Who acts: conmon runs its exit command (`pallet container cleanup ID`) when the
container's process ends, detached from any CLI. After the cleanup recorded the
exit, `after_exit` decides (`decide`, pure) and, to restart, marks the container
Restarting, sleeps Docker's back-off and starts it again: the new conmon carries
the same exit command, so the cycle needs no resident process between exits.
At boot, `restore` (run by `pallet system restore` from contrib/'s unit or rc
script) starts what Docker's daemon would start when it comes up.

Invariants:
  * an exit is acted on at most once: `_policy_for` holds the StartedAt of the run
    whose exit was claimed, set in the same transaction that claims it (the CLI's
    `wait` and conmon's exit command may both clean up one exit);
  * a stop by the user (`_stopped_by_user`, set by ContainerService.stop before it
    signals) never leads to a restart, also when it lands during the back-off;
  * back-off as Docker's restart manager: 100 ms, doubling per restart, at most
    1 minute, back to 100 ms once a run lasted 10 seconds.
"""
from __future__ import annotations

import time

from ...errors import InvalidArgument, NotFound, PalletError

POLICIES = ("no", "always", "unless-stopped", "on-failure")
BACKOFF_START = 0.1
BACKOFF_MAX = 60.0
RESET_AFTER = 10.0


def parse_policy(text: str) -> dict:
    """``on-failure:3`` -> HostConfig.RestartPolicy {"Name": "on-failure", "MaximumRetryCount": 3}."""
    name, colon, count = (text or "no").partition(":")
    if name not in POLICIES:
        raise InvalidArgument(f"invalid restart policy format: {text}")
    if colon:
        if name != "on-failure":
            raise InvalidArgument(f"invalid restart policy format: maximum retry count must be used "
                                  f'with restart policy "on-failure": {text}')
        if not count.isdigit():
            raise InvalidArgument(f"invalid restart policy format: {text}")
    return {"Name": name, "MaximumRetryCount": int(count or 0)}


def decide(record: dict) -> float | None:
    """Seconds to wait before restarting after this exit, or None: stay exited."""
    from ...oci.image import parse_time
    policy = record["HostConfig"].get("RestartPolicy") or {}
    name = policy.get("Name") or "no"
    if name == "no" or record.get("_stopped_by_user") or record["HostConfig"].get("AutoRemove"):
        return None
    state = record["State"]
    if name == "on-failure":
        limit = policy.get("MaximumRetryCount") or 0
        if state["ExitCode"] == 0 or (limit and record.get("RestartCount", 0) >= limit):
            return None
    ran = parse_time(state.get("FinishedAt")) - parse_time(state.get("StartedAt"))
    previous = record.get("_restart_delay") or 0.0
    if ran >= RESET_AFTER or not previous:
        return BACKOFF_START
    return min(previous * 2, BACKOFF_MAX)


def after_exit(svc, ref: str, sleep=time.sleep) -> bool:
    """Apply the policy to the exit cleanup just recorded; True if the container was restarted."""
    try:
        cid = svc.resolve(ref)
        delay = _claim(svc, cid)
    except NotFound:
        return False
    if delay is None:
        return False
    sleep(delay)
    if not svc.store.exists(cid):
        return False  # removed during the back-off (its lock would say NotFound)
    try:
        # under the container's lock, so a `stop` lands either before (no start) or after
        # (it stops what started): a pending restart never outlives the user's stop
        with svc._locked(cid):
            record = svc.store.get(cid)
            state = record["State"]
            if not state.get("Restarting") or state["Running"] or record.get("_stopped_by_user"):
                return False
            record = svc.store.update(cid, _count_restart)
            svc._cleanup_runtime(cid)
            svc._start_locked(cid, record)
    except PalletError:  # removed, or it cannot start (its image gone): it stays exited
        try:
            svc.store.update(cid, on_start)
        except NotFound:
            pass
        return False
    return True


def _count_restart(record: dict) -> None:
    record["State"].update(Restarting=False, Status="exited")
    record["RestartCount"] = record.get("RestartCount", 0) + 1


def _claim(svc, cid: str) -> float | None:
    claimed = []

    def change(r):
        s = r["State"]
        if s["Running"] or s.get("Restarting") or r.get("_policy_for") == s["StartedAt"]:
            return
        if s["Status"] != "exited":
            return
        r["_policy_for"] = s["StartedAt"]
        delay = decide(r)
        if delay is None:
            return
        s.update(Restarting=True, Status="restarting")
        r["_restart_delay"] = delay
        claimed.append(delay)
    svc.store.update(cid, change)
    return claimed[0] if claimed else None


def on_stop(svc, cid: str) -> None:
    """The user stops it: no restart for this exit, and none pending from an earlier one."""
    def change(r):
        r["_stopped_by_user"] = True
        if r["State"].get("Restarting"):
            r["State"].update(Restarting=False, Status="exited")
    with svc._locked(cid):  # waits out a restart that is starting right now
        svc.store.update(cid, change)


def on_start(record: dict) -> None:
    """A start (by the user or the policy) ends any pending restart."""
    record["State"]["Restarting"] = False


def restore(svc, on_error=None) -> list[str]:
    """Boot hook: start `always` containers, and `unless-stopped` ones the user did not stop."""
    started = []
    for record in svc.list():
        policy = (record["HostConfig"].get("RestartPolicy") or {}).get("Name") or "no"
        if record["State"]["Running"]:
            continue
        if policy == "always" or (policy == "unless-stopped" and not record.get("_stopped_by_user")):
            try:
                svc.start(record["Id"])
            except PalletError as exc:
                if on_error:
                    on_error(record["Id"], exc)
                continue
            started.append(record["Id"])
    return started
