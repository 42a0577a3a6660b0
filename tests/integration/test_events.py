"""Events without a daemon: every process that changes something appends to the store's
journal; `pallet events` and `docker events` (GET /events) read and follow it."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from api_service import ALSO_DOCKER
from polling import wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")


def _events(pallet, *argv: str) -> list[dict]:
    r = pallet.ok("events", "--format", "{{json .}}", *argv)
    return [json.loads(line) for line in r.lines]


def test_a_container_that_dies_alone_still_records_its_die_event(pallet, busybox):
    start = str(time.time())
    cid = pallet.ok("run", "-d", "--name", "alone", "busybox", "sh", "-c", "exit 3").out.strip()

    def died():
        return any(e["Action"] == "die" for e in _events(pallet, "--since", start, "--until", str(time.time())))
    assert wait_for(died, 15), "no die event from the monitor's exit command"
    events = _events(pallet, "--since", start, "--until", str(time.time()), "--filter", "container=alone")
    assert [e["Action"] for e in events] == ["create", "start", "die"]
    die = events[-1]
    assert die["Actor"]["ID"] == cid and die["Actor"]["Attributes"]["exitCode"] == "3"
    assert die["Actor"]["Attributes"]["name"] == "alone" and die["from"] == "busybox"
    pallet.ok("rm", "alone")


def test_events_filters_and_the_default_line(pallet, busybox):
    start = str(time.time())
    pallet.ok("volume", "create", "v1")
    pallet.ok("tag", "busybox", "localhost/x:1")
    pallet.ok("volume", "rm", "v1")
    until = str(time.time())
    vols = _events(pallet, "--since", start, "--until", until, "--filter", "type=volume")
    assert [(e["Action"], e["Actor"]["ID"]) for e in vols] == [("create", "v1"), ("destroy", "v1")]
    lines = pallet.ok("events", "--since", start, "--until", until, "--filter", "event=tag").lines
    assert len(lines) == 1 and " image tag " in lines[0] and lines[0].endswith("(name=localhost/x:1)")
    r = pallet("events", "--filter", "nosuch=1", "--until", until)
    assert r.code == 1 and "invalid filter 'nosuch'" in r.err


def test_docker_events_follows_what_the_cli_does(api, pallet, busybox):
    proc = subprocess.Popen(["docker", "events", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
                             "--filter", "type=container"], stdout=subprocess.PIPE, env=api.env, text=True)
    try:
        time.sleep(1)  # docker events starts from now
        start = str(time.time())
        pallet.ok("run", "--rm", "--name", "seen", "busybox", "true")
        assert wait_for(lambda: any(e["Action"] == "destroy" for e in _events(
            pallet, "--since", start, "--until", str(time.time()))), 15)
        time.sleep(0.5)  # the service polls the journal every 0.1 s
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert out.splitlines() == ["container create seen", "container start seen", "container die seen",
                                "container destroy seen"]


# ---- healthchecks and exec, as dockerd logs them (daemon/health.go, daemon/exec.go) ----

FAST_CHECK = ["--health-interval", "0.2s", "--health-timeout", "5s"]


def _journal(pallet, since: str, *filters: str) -> list[dict]:
    return _events(pallet, "--since", since, "--until", str(time.time()),
                   *[arg for f in filters for arg in ("--filter", f)])


@ALSO_DOCKER
def test_a_container_becoming_healthy_records_a_health_status_event(pallet, busybox):
    """Each probe is an exec (exec_create, exec_start with the check's command, exec_die with
    its exit code, one execID); a change of status, and only a change, is `health_status: X`,
    which `--filter event=health_status` matches by its part before the colon."""
    since = str(time.time())
    cid = pallet.ok("run", "-d", "--name", "web", "--label", "tier=front", "--health-cmd", "echo alive",
                    *FAST_CHECK, "busybox", "sleep", "1000").out.strip()
    assert wait_for(lambda: len(_journal(pallet, since, "event=exec_die")) >= 3, 30), "no three probes"
    health = _journal(pallet, since, "event=health_status")
    assert [e["Action"] for e in health] == ["health_status: healthy"]  # once, not per probe
    assert health[0]["Actor"] == {"ID": cid, "Attributes": {"image": "busybox", "name": "web", "tier": "front"}}
    assert health[0]["status"] == "health_status: healthy" and health[0]["from"] == "busybox"
    assert _journal(pallet, since, "event=health_status: healthy") == health  # the whole action too
    probe = [e for e in _journal(pallet, since, "container=web") if e["Action"].startswith("exec_")][:3]
    assert [e["Action"] for e in probe] == ["exec_create: /bin/sh -c echo alive",
                                            "exec_start: /bin/sh -c echo alive", "exec_die"]
    exec_ids = {e["Actor"]["Attributes"]["execID"] for e in probe}
    assert len(exec_ids) == 1 and len(exec_ids.pop()) == 64
    assert probe[2]["Actor"]["Attributes"]["exitCode"] == "0"
    line = pallet.ok("events", "--since", since, "--until", str(time.time()),
                     "--filter", "event=health_status").lines
    assert len(line) == 1 and line[0].endswith(
        f" container health_status: healthy {cid} (image=busybox, name=web, tier=front)")
    pallet.ok("rm", "-f", "web")


def test_health_status_events_follow_each_change_of_status(pallet, busybox):
    """No event for `starting`; unhealthy once its retries fail, healthy again once a probe passes."""
    since = str(time.time())
    pallet.ok("run", "-d", "--name", "flaky", "--health-cmd", "test -f /ok", "--health-retries", "2",
              *FAST_CHECK, "busybox", "sleep", "1000")

    def statuses() -> list[str]:
        return [e["Action"] for e in _journal(pallet, since, "event=health_status")]
    assert wait_for(lambda: statuses() == ["health_status: unhealthy"], 30)
    dies = _journal(pallet, since, "event=exec_die")
    assert dies and all(e["Actor"]["Attributes"]["exitCode"] == "1" for e in dies)
    pallet.ok("exec", "flaky", "touch", "/ok")
    assert wait_for(lambda: statuses() == ["health_status: unhealthy", "health_status: healthy"], 30)
    pallet.ok("rm", "-f", "flaky")


@ALSO_DOCKER
def test_exec_records_exec_create_start_and_die_events(pallet, busybox):
    """As dockerd for any exec: `exec_create: CMD ARGS`, `exec_start: CMD ARGS` (a bare command
    keeps the space before its empty arguments), `exec_die` with the exitCode; one execID."""
    pallet.ok("run", "-d", "--name", "box", "busybox", "sleep", "1000")
    since = str(time.time())
    assert pallet("exec", "box", "sh", "-c", "exit 3").code == 3
    pallet.ok("exec", "box", "true")

    def execs() -> list[dict]:
        return _journal(pallet, since, "event=exec_create", "event=exec_start", "event=exec_die")
    assert wait_for(lambda: len(execs()) == 6, 15), execs()  # over the API, exec_die follows the stream
    events = execs()
    assert [e["Action"] for e in events] == ["exec_create: sh -c exit 3", "exec_start: sh -c exit 3", "exec_die",
                                             "exec_create: true ", "exec_start: true ", "exec_die"]
    first, second = events[:3], events[3:]
    for one, code in ((first, "3"), (second, "0")):
        assert len({e["Actor"]["Attributes"]["execID"] for e in one}) == 1
        assert one[2]["Actor"]["Attributes"]["exitCode"] == code
        assert all(e["Actor"]["Attributes"]["name"] == "box" for e in one)
    assert first[0]["Actor"]["Attributes"]["execID"] != second[0]["Actor"]["Attributes"]["execID"]
    assert [e["Action"] for e in _journal(pallet, since, "event=exec_die")] == ["exec_die", "exec_die"]
    pallet.ok("rm", "-f", "box")
