"""Restart policies carried out by conmon's exit command, with no pallet daemon; the boot hook."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from pallet.services.containers.restart import decide, parse_policy
from pallet.errors import InvalidArgument

from polling import wait_for as _wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")


def _inspect(pallet, ref) -> dict:
    return json.loads(pallet.ok("inspect", ref).out)[0]


def test_on_failure_restarts_up_to_its_maximum_and_counts(pallet, busybox):
    pallet.ok("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3")
    assert _wait_for(lambda: _inspect(pallet, "flaky")["RestartCount"] == 2, 15)
    time.sleep(1.0)  # no third run: the maximum is reached
    doc = _inspect(pallet, "flaky")
    assert doc["RestartCount"] == 2
    assert doc["State"]["Status"] == "exited" and doc["State"]["ExitCode"] == 3
    assert doc["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}


def test_on_failure_leaves_a_clean_exit_alone_and_no_never_restarts(pallet, busybox):
    pallet.ok("run", "-d", "--name", "clean", "--restart", "on-failure", "busybox", "true")
    pallet.ok("run", "-d", "--network", "none", "--name", "plain", "busybox", "sh", "-c", "exit 1")
    time.sleep(1.0)
    for name in ("clean", "plain"):
        doc = _inspect(pallet, name)
        assert doc["RestartCount"] == 0 and doc["State"]["Status"] == "exited"


def test_always_restarts_after_any_exit_but_not_after_stop(pallet, busybox):
    pallet.ok("run", "-d", "--name", "loop", "--restart", "always", "busybox", "sh", "-c", "sleep 0.3")
    assert _wait_for(lambda: _inspect(pallet, "loop")["RestartCount"] >= 2, 15)
    pallet.ok("stop", "-t", "1", "loop")
    count = _inspect(pallet, "loop")["RestartCount"]
    time.sleep(1.5)
    doc = _inspect(pallet, "loop")
    assert doc["State"]["Running"] is False and doc["State"]["Restarting"] is False
    assert doc["RestartCount"] == count


def test_kill_restarts_an_unless_stopped_container(pallet, busybox):
    pallet.ok("run", "-d", "--name", "svc", "--restart", "unless-stopped", "busybox", "sleep", "1000")
    pid = _inspect(pallet, "svc")["State"]["Pid"]
    pallet.ok("kill", "svc")
    assert _wait_for(lambda: _inspect(pallet, "svc")["RestartCount"] == 1
                     and _inspect(pallet, "svc")["State"]["Running"], 10)
    assert _inspect(pallet, "svc")["State"]["Pid"] != pid
    assert "Up " in pallet.ok("ps", "--format", "{{.Status}}").out


def test_restore_after_a_reboot_starts_always_and_unless_stopped_containers(pallet, busybox):
    pallet.ok("run", "-d", "--network", "none", "--name", "always", "--restart", "always", "busybox", "sleep", "1000")
    pallet.ok("run", "-d", "--network", "none", "--name", "unless", "--restart", "unless-stopped", "busybox", "sleep", "1000")
    pallet.ok("run", "-d", "--network", "none", "--name", "stopped", "--restart", "unless-stopped", "busybox", "sleep", "1000")
    pallet.ok("run", "-d", "--name", "plain", "busybox", "sleep", "1000")
    pallet.ok("stop", "-t", "0", "stopped")
    pids = [_inspect(pallet, n)["State"]["Pid"] for n in ("always", "unless", "plain")]
    # a reboot: every process dies at once (no exit commands run), the runroot is wiped
    subprocess.run(["pkill", "-9", "-f", f"conmon.*{pallet.runroot}"])
    for pid in pids:
        os.kill(pid, 9)
    time.sleep(0.3)
    for line in reversed(open("/proc/self/mountinfo").read().splitlines()):
        if str(pallet.runroot) in line:
            subprocess.run(["umount", "-l", line.split()[4]])
    subprocess.run(["rm", "-rf", str(pallet.runroot)])
    r = pallet.ok("system", "restore")
    restored = r.lines
    assert r.err == ""
    running = {n: _inspect(pallet, n)["State"]["Running"] for n in ("always", "unless", "stopped", "plain")}
    assert running == {"always": True, "unless": True, "stopped": False, "plain": False}
    assert len(restored) == 2


def test_contrib_boot_hooks_run_system_restore():
    root = os.path.join(os.path.dirname(__file__), "..", "..", "contrib")
    unit = open(os.path.join(root, "pallet-restore.service")).read()
    assert "ExecStart=" in unit and "system restore" in unit and "WantedBy=multi-user.target" in unit
    rc = os.path.join(root, "pallet-restore.rc")
    assert os.access(rc, os.X_OK) and "system restore" in open(rc).read()


def test_update_restart_policy_takes_effect_at_the_next_exit(pallet, busybox):
    pallet.ok("run", "-d", "--name", "later", "busybox", "sleep", "0.5")
    pallet.ok("update", "--restart", "always", "later")
    assert _wait_for(lambda: _inspect(pallet, "later")["RestartCount"] >= 1, 10)


# ---- the policy, pure ----

def _record(policy: str, code: int, restarts: int = 0, ran: float = 1.0, delay: float = 0.0, **extra):
    started = "2024-01-01T00:00:00Z"
    finished = f"2024-01-01T00:00:{int(ran):02d}Z"
    return {"HostConfig": {"RestartPolicy": parse_policy(policy)}, "RestartCount": restarts,
            "_restart_delay": delay, **extra,
            "State": {"ExitCode": code, "StartedAt": started, "FinishedAt": finished}}


def test_back_off_doubles_from_100ms_to_a_minute_and_resets_after_10s_of_running():
    assert decide(_record("always", 0)) == 0.1
    assert decide(_record("always", 0, delay=0.1)) == 0.2
    assert decide(_record("always", 0, delay=40.0)) == 60.0
    assert decide(_record("always", 0, delay=40.0, ran=11)) == 0.1
    assert decide(_record("unless-stopped", 1, _stopped_by_user=True)) is None
    assert decide(_record("on-failure:3", 1, restarts=3)) is None
    assert decide(_record("on-failure:3", 1, restarts=2)) == 0.1
    assert decide(_record("on-failure", 0)) is None
    assert decide(_record("no", 1)) is None


def test_restart_policy_parsing_uses_dockers_words():
    assert parse_policy("on-failure:5") == {"Name": "on-failure", "MaximumRetryCount": 5}
    for bad, words in (("bogus", "invalid restart policy format: bogus"),
                       ("always:3", 'maximum retry count must be used with restart policy "on-failure"'),
                       ("on-failure:x", "invalid restart policy format: on-failure:x")):
        with pytest.raises(InvalidArgument, match=words):
            parse_policy(bad)
