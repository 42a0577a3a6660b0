"""Healthchecks run by a per-container shell loop (no daemon, no systemd), and --health-on-failure."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from polling import wait_for as _wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")


def _inspect(pallet, ref) -> dict:
    return json.loads(pallet.ok("inspect", ref).out)[0]


def _health(pallet, ref) -> dict:
    return _inspect(pallet, ref)["State"].get("Health") or {}


FAST = ["--health-interval", "0.2s", "--health-timeout", "2s"]


def test_passing_check_turns_healthy_in_ps_and_inspect(pallet, busybox):
    pallet.ok("run", "-d", "--name", "web", "--health-cmd", "echo alive", *FAST, "busybox", "sleep", "1000")
    assert pallet.ok("ps", "--format", "{{.Status}}").out.endswith("(health: starting)\n")
    assert _wait_for(lambda: _health(pallet, "web").get("Status") == "healthy")
    assert pallet.ok("ps", "--format", "{{.Status}}").out.endswith("(healthy)\n")
    entry = _health(pallet, "web")["Log"][-1]
    assert entry["ExitCode"] == 0 and entry["Output"] == "alive\n" and entry["Start"] <= entry["End"]
    check = _inspect(pallet, "web")["Config"]["Healthcheck"]
    assert check == {"Test": ["CMD-SHELL", "echo alive"], "Interval": 200_000_000, "Timeout": 2_000_000_000}
    assert _wait_for(lambda: len(_health(pallet, "web")["Log"]) == 5)  # Docker keeps the last 5
    time.sleep(0.5)
    assert len(_health(pallet, "web")["Log"]) == 5


def test_failing_check_turns_unhealthy_after_its_retries(pallet, busybox):
    pallet.ok("run", "-d", "--name", "sick", "--health-cmd", "echo no >&2; exit 1", "--health-retries", "2",
              *FAST, "busybox", "sleep", "1000")
    assert _wait_for(lambda: _health(pallet, "sick").get("Status") == "unhealthy")
    health = _health(pallet, "sick")
    assert health["FailingStreak"] >= 2 and health["Log"][-1] | {"Start": 0, "End": 0} == {
        "Start": 0, "End": 0, "ExitCode": 1, "Output": "no\n"}
    assert pallet.ok("ps", "--format", "{{.Status}}").out.endswith("(unhealthy)\n")
    assert _inspect(pallet, "sick")["State"]["Running"] is True  # Docker only reports it


def test_a_check_that_overruns_its_timeout_fails(pallet, busybox):
    pallet.ok("run", "-d", "--name", "slow", "--health-cmd", "sleep 5", "--health-interval", "0.2s",
              "--health-timeout", "0.3s", "--health-retries", "1", "busybox", "sleep", "1000")
    assert _wait_for(lambda: _health(pallet, "slow").get("Status") == "unhealthy")
    entry = _health(pallet, "slow")["Log"][-1]
    assert entry["ExitCode"] == -1 and entry["Output"] == "Health check exceeded timeout (0.3s)"
    time.sleep(1.0)  # checks start every 0.2 s; overrun ones are killed, so they never pile up
    assert pallet.ok("top", "slow").out.count("sleep 5") <= 1


def test_start_period_failures_do_not_count(pallet, busybox):
    pallet.ok("run", "-d", "--name", "warm", "--health-cmd", "exit 1", "--health-retries", "1",
              "--health-start-period", "30s", *FAST, "busybox", "sleep", "1000")
    assert _wait_for(lambda: len(_health(pallet, "warm").get("Log", [])) >= 2)
    assert _health(pallet, "warm")["Status"] == "starting"


def test_health_on_failure_kill_and_stop_end_the_container(pallet, busybox):
    for action in ("kill", "stop"):
        pallet.ok("run", "-d", "--name", action, "--restart", "always", "--stop-timeout", "1",
                  "--health-cmd", "exit 1",
                  "--health-retries", "1", "--health-on-failure", action, *FAST, "busybox", "sleep", "1000")
    for action, code in (("kill", 137), ("stop", 137)):  # sleep as pid 1 ignores SIGTERM
        assert _wait_for(lambda: not _inspect(pallet, action)["State"]["Running"]
                         and not _inspect(pallet, action)["State"]["Restarting"]), action
        assert _inspect(pallet, action)["State"]["ExitCode"] == code
    # a kill is not the user's stop: the restart policy brings the container back
    assert _wait_for(lambda: _inspect(pallet, "kill")["RestartCount"] >= 1)
    time.sleep(0.5)
    assert _inspect(pallet, "stop")["RestartCount"] == 0


def test_health_on_failure_restart_restarts_the_container(pallet, busybox):
    pallet.ok("run", "-d", "--name", "phoenix", "--stop-timeout", "1", "--health-cmd", "test -f /ok || { touch /ok; exit 1; }",
              "--health-retries", "1", "--health-on-failure", "restart", *FAST, "busybox", "sleep", "1000")
    started = _inspect(pallet, "phoenix")["State"]["StartedAt"]
    assert _wait_for(lambda: _inspect(pallet, "phoenix")["State"]["StartedAt"] != started)
    assert _wait_for(lambda: _health(pallet, "phoenix").get("Status") == "healthy")
    assert _inspect(pallet, "phoenix")["State"]["Running"] is True


def test_no_healthcheck_and_bad_health_flags(pallet, busybox):
    pallet.ok("run", "-d", "--name", "none", "--no-healthcheck", "busybox", "sleep", "1000")
    doc = _inspect(pallet, "none")
    assert doc["Config"]["Healthcheck"] == {"Test": ["NONE"]} and "Health" not in doc["State"]
    assert "(" not in pallet.ok("ps", "--format", "{{.Status}}").out
    for flags, words in ((["--no-healthcheck", "--health-cmd", "true"],
                          "--no-healthcheck conflicts with --health-* options"),
                         (["--health-on-failure", "explode"], 'invalid on-failure action "explode"'),
                         (["--health-interval", "-1s"], "--health-interval cannot be negative"),
                         (["--health-timeout", "soon"],
                          'invalid argument "soon" for "--health-timeout" flag: time: invalid duration "soon"')):
        r = pallet("run", "-d", *flags, "busybox", "true")
        assert r.code == 125 and words in r.err, (flags, r.err)
    assert len(pallet.ok("ps", "-aq").lines) == 1


def test_the_health_loop_ends_with_the_container(pallet, busybox):
    cid = pallet.ok("run", "-d", "--health-cmd", "true", "--health-interval", "30s", "busybox",
                    "sleep", "1000").out.strip()
    loops = subprocess.run(["pgrep", "-f", f"healthcheck {cid}"], capture_output=True, text=True).stdout.split()
    assert len(loops) == 1
    rss_kb = int(open(f"/proc/{loops[0]}/status").read().split("VmRSS:")[1].split()[0])
    assert rss_kb < 4096  # a shell, not a sleeping Python
    pallet.ok("stop", "-t", "0", cid)
    assert subprocess.run(["pgrep", "-f", f"healthcheck {cid}"], capture_output=True).stdout == b""


def test_inspect_prints_healthcheck_durations_as_docker_does(pallet, busybox):
    pallet.ok("create", "--name", "dur", "--health-cmd", "true", "--health-interval", "90s",
              "--health-timeout", "500ms", "busybox", "true")
    r = pallet.ok("inspect", "-f", "{{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Timeout}} "
                  "{{json .Config.Healthcheck.Interval}}", "dur")
    assert r.out == "1m30s 500ms 90000000000\n"


def test_cmd_shell_probe_runs_under_config_shell_never_the_image_shell(pallet, busybox, tmp_path):
    """moby's cmdProbe: CMD-SHELL is Config.Shell (else /bin/sh -c) plus the Test words as they
    are; Config.Shell comes only from the create body (moby's create merge leaves out the
    image's SHELL, and docker/cli has no flag for it)."""
    from api_service import ApiService
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(
        'FROM busybox\nSHELL ["/bin/echo", "image-shell"]\nHEALTHCHECK --interval=0.2s CMD echo from-sh\n')
    pallet.ok("build", "-q", "-t", "shelled", str(tmp_path / "ctx"))
    api = ApiService(pallet, tmp_path / "api.sock")
    try:
        check = {"Interval": 200_000_000, "Timeout": 2_000_000_000}
        for name, extra in (("custom", {"Shell": ["/bin/echo", "shell-was"],
                                        "Healthcheck": {"Test": ["CMD-SHELL", "exit 3", "zero"], **check}}),
                            ("split", {"Healthcheck": {"Test": ["CMD-SHELL", 'echo "$0"', "zero"], **check}}),
                            ("image", {"Image": "shelled"})):
            body = {"Image": "busybox", "Cmd": ["sleep", "1000"], **extra}
            status, _, out = api.request("POST", f"/containers/create?name={name}", body)
            assert status == 201, out
    finally:
        api.stop()
    pallet.ok("start", "custom", "split", "image")
    outputs = {"custom": "shell-was exit 3 zero\n", "split": "zero\n", "image": "from-sh\n"}
    for name, output in outputs.items():
        assert _wait_for(lambda: _health(pallet, name).get("Status") == "healthy"), _health(pallet, name)
        assert _health(pallet, name)["Log"][-1]["Output"] == output
    assert _inspect(pallet, "custom")["Config"]["Shell"] == ["/bin/echo", "shell-was"]
    assert "Shell" not in _inspect(pallet, "image")["Config"]
    pallet.ok("rm", "-f", "custom", "split", "image")
