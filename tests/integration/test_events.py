"""Events without a daemon: every process that changes something appends to the store's
journal; `pallet events` and `docker events` (GET /events) read and follow it."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

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
