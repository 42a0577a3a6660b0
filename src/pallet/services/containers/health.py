"""Healthchecks (HEALTHCHECK, `--health-*`, `--no-healthcheck`) without a daemon or systemd.

A running container with a check has one tiny monitor: a ``sh`` loop (about 1 MB,
where a sleeping Python costs 10) that sleeps the interval and runs
``pallet container healthcheck ID``, which execs the check in the container (runc
exec), records the result in State.Health and, beyond Docker (moby#28400), carries
out ``--health-on-failure restart|stop|kill`` when the container turns unhealthy.
The loop is its own process group, started at start and killed at cleanup
(`stop_loop`, from ContainerService._cleanup_runtime); it also ends by itself once
the check command reports that the container is gone.

State.Health is Docker's: Status starting|healthy|unhealthy, FailingStreak, and the
last 5 results in Log (Start, End, ExitCode, Output cut to 4096 bytes). Failures in
the start period do not count until a check has passed. Its events are Docker's too:
each probe is an exec (exec_create, exec_start, exec_die) and each change of Status a
`health_status: healthy|unhealthy`, journalled by the check's own process.
"""
from __future__ import annotations

import os
import sys
import time

from ...errors import Conflict, InvalidArgument, NotFound
from ...paths import HEALTH_PID_FILE as PID_FILE

SECOND = 10**9
DEFAULTS = {"Interval": 30 * SECOND, "Timeout": 30 * SECOND, "StartPeriod": 0, "Retries": 3,
            "StartInterval": 0}
ACTIONS = ("none", "kill", "restart", "stop")
LOG_ENTRIES = 5
MAX_OUTPUT = 4096


# ---- configuration (create time) ----

def apply_config(record: dict, req, image_config: dict) -> None:
    """Config.Healthcheck from the flags over the image's HEALTHCHECK, as Docker merges them."""
    flags = (getattr(req, "extra", None) or {}).get("health") or {}
    image_hc = (image_config.get("config") or {}).get("Healthcheck") or {}
    given = {k: v for k, v in flags.items() if k in ("Test", *DEFAULTS) and v}
    if flags.get("none"):
        if given:
            raise InvalidArgument("--no-healthcheck conflicts with --health-* options")
        record["Config"]["Healthcheck"] = {"Test": ["NONE"]}
    elif given or image_hc:
        record["Config"]["Healthcheck"] = {**image_hc, **given}
    action = flags.get("on_failure") or "none"
    if action not in ACTIONS:
        raise InvalidArgument(f'invalid on-failure action "{action}" for health check: '
                              f"supported actions are: {', '.join(ACTIONS)}")
    if action != "none":
        record["Config"]["HealthcheckOnFailureAction"] = action


def config_of(record: dict) -> dict | None:
    """The effective check with Docker's defaults filled in, or None when there is none."""
    hc = record["Config"].get("Healthcheck") or {}
    test = hc.get("Test") or []
    if not test or test[0] == "NONE":
        return None
    return {**DEFAULTS, **{k: v for k, v in hc.items() if v}}


def command_of(test: list[str]) -> list[str]:
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    return list(test[1:]) if test[0] == "CMD" else list(test)


# ---- the loop process ----

def start_loop(svc, record: dict) -> dict:
    """At start: Health is `starting` and the loop runs; returns the record as stored."""
    hc = config_of(record)
    if hc is None:
        return record
    cid = record["Id"]
    record = svc.store.update(cid, lambda r: r["State"].update(
        Health={"Status": "starting", "FailingStreak": 0, "Log": []}))
    check = " ".join(_quote(a) for a in [sys.executable, "-m", "pallet.cli.main", "--root",
                                         str(svc.paths.root), "--runroot", str(svc.paths.runroot),
                                         "container", "healthcheck", cid])
    loop = f"while sleep {hc['Interval'] / SECOND:.3f}; do {check} >/dev/null 2>&1 || exit 0; done"
    if hc["StartInterval"] and hc["StartPeriod"]:  # --health-start-interval: within the start period
        end = f"$(( $(date +%s) + {max(1, round(hc['StartPeriod'] / SECOND))} ))"
        loop = (f"end={end}; while [ $(date +%s) -lt $end ] && sleep {hc['StartInterval'] / SECOND:.3f}; "
                f"do {check} >/dev/null 2>&1 || exit 0; done; {loop}")
    # setsid puts the loop in its own group (killpg takes an in-flight check too); the outer
    # sh exits at once, so the loop is init's child and nobody has to reap it
    import subprocess  # lazily: `run` imports this module, rarely this path
    outer = subprocess.run(["sh", "-c", 'setsid sh -c "$0" </dev/null >/dev/null 2>&1 & echo $!', loop],
                           capture_output=True, text=True, timeout=10)
    (svc.userdata(cid) / PID_FILE).write_text(outer.stdout.strip())
    return record


def stop_loop(svc, cid: str) -> None:
    pid_file = svc.userdata(cid) / PID_FILE
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return
    try:  # the pid may be another process's after a reboot: only a loop for this container
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            ours = cid.encode() in f.read()
        if ours and pid != os.getpgrp():
            os.killpg(pid, 9)  # SIGKILL
    except OSError:
        pass
    pid_file.unlink(missing_ok=True)


def _quote(word: str) -> str:
    import shlex
    return shlex.quote(word)


# ---- one check ----

def run_check(svc, ref: str) -> str:
    """Run the check once, record it, act on a turn to unhealthy; returns the new status."""
    from ...oci.image import now_rfc3339
    record = svc.get(ref)
    cid = record["Id"]
    hc = config_of(record)
    if not record["State"]["Running"] or hc is None:
        raise Conflict(f"container {cid} is not running")
    if record["State"]["Paused"]:
        return (record["State"].get("Health") or {}).get("Status", "starting")
    start = now_rfc3339()
    code, output = _probe(svc, record, command_of(hc["Test"]), hc["Timeout"] / SECOND)
    entry = {"Start": start, "End": now_rfc3339(), "ExitCode": code, "Output": output}
    turns = []

    def change(r):
        if not r["State"]["Running"]:
            return
        health = r["State"].setdefault("Health", {"Status": "starting", "FailingStreak": 0, "Log": []})
        before = health["Status"]
        _record(health, entry, _in_start_period(r, hc), hc["Retries"])
        if health["Status"] != before:
            turns.append(health["Status"])
    try:
        record = svc.store.update(cid, change)
    except NotFound:
        raise Conflict(f"container {cid} is not running") from None
    if turns:  # only a change is an event, as dockerd's handleProbeResult: never `starting`
        svc.events().container(f"health_status: {turns[-1]}", record)
    if turns[-1:] == ["unhealthy"]:
        _on_failure(svc, cid, record["Config"].get("HealthcheckOnFailureAction") or "none")
    return (record["State"].get("Health") or {}).get("Status", "")


def _probe(svc, record: dict, argv: list[str], timeout: float) -> tuple[int, str]:
    """`_exec` between the exec events dockerd logs for every probe (health.go runs the
    check as an exec instance): exec_create, exec_start, then exec_die with its code (a
    probe killed at its timeout dies of SIGKILL: 137)."""
    events, exec_id = svc.events(), os.urandom(32).hex()
    events.container_exec("exec_create", record, exec_id, argv)
    events.container_exec("exec_start", record, exec_id, argv)
    code, output = _exec(svc, record["Id"], argv, timeout)
    events.container_exec("exec_die", record, exec_id, exitCode=137 if code == -1 else code)
    return code, output


def _record(health: dict, entry: dict, in_start_period: bool, retries: int) -> None:
    health["Log"] = (health.get("Log") or [])[-(LOG_ENTRIES - 1):] + [entry]
    if entry["ExitCode"] == 0:
        health.update(Status="healthy", FailingStreak=0)
    elif not (in_start_period and health["Status"] == "starting"):
        health["FailingStreak"] = health.get("FailingStreak", 0) + 1
        if health["FailingStreak"] >= retries:
            health["Status"] = "unhealthy"


def _in_start_period(record: dict, hc: dict) -> bool:
    from ...oci.image import parse_time
    return time.time() - parse_time(record["State"]["StartedAt"]) < hc["StartPeriod"] / SECOND


def _exec(svc, cid: str, argv: list[str], timeout: float) -> tuple[int, str]:
    """The check, in the container: (exit code, combined output); -1 on timeout, as Docker."""
    runc = svc.monitor_of(cid).runc
    pid_file = svc.userdata(cid) / "health-exec.pid"
    pid_file.unlink(missing_ok=True)
    import subprocess  # lazily: `run` imports this module, rarely this path
    from ...runtime.syscall_guard import preexec
    proc = subprocess.Popen(runc.argv("exec", "--pid-file", str(pid_file), cid, *argv),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=preexec(svc.exec_guard(cid)))
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_pid_file(pid_file)
        proc.kill()
        proc.communicate()
        return -1, f"Health check exceeded timeout ({_go_seconds(timeout)})"
    finally:
        pid_file.unlink(missing_ok=True)
    text = out[:MAX_OUTPUT].decode("utf-8", "replace")
    if proc.returncode != 0 and not pid_file.exists() and "runc" in text[:200]:
        from ...runtime.runc import runc_message
        text = runc_message(text)
    return proc.returncode, text


def _kill_pid_file(pid_file) -> None:
    try:
        os.kill(int(pid_file.read_text()), 9)  # SIGKILL
    except (OSError, ValueError):
        pass


def _go_seconds(seconds: float) -> str:
    return f"{seconds:g}s"


def _on_failure(svc, cid: str, action: str) -> None:
    """--health-on-failure: leave the loop's process group first, since stop/restart kill it."""
    if action == "none":
        return
    try:
        os.setsid()
    except OSError:
        pass
    if action == "kill":
        svc.kill(cid, "KILL", by_user=False)
    elif action == "stop":
        svc.stop(cid)
    elif action == "restart":
        svc.restart(cid)
