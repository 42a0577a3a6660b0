"""A foreground `run` in one terminal, the user's commands in another: Docker's behaviour.

`stop` and `restart` from another process end the container within their timeout and the
attached client exits with the container's code (137 when it had to be killed); a ^C on
the client is forwarded to the container (sig-proxy) and its output keeps coming until it
exits. Each test runs the CLI as a real subprocess and fails rather than hangs."""
from __future__ import annotations

import signal
import subprocess
import sys

import pytest

TRAP = ('trap "echo got-{sig}; sleep 0.3; echo done-{sig}; exit {code}" {sig}; echo ready; '
        'while true; do sleep 0.1; done')


def foreground(pallet, *argv: str) -> subprocess.Popen:
    """`pallet run` without -d, started once the container said "ready"."""
    proc = subprocess.Popen([sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root),
                             "--runroot", str(pallet.runroot), "run", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n", proc.stderr.read()
    return proc


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the attached run never returned")
    return proc.returncode, out


def test_stop_from_another_process_ends_an_attached_run_with_the_containers_exit_code(
        pallet, busybox, no_leaks):
    run = foreground(pallet, "--name", "web", busybox, "sh", "-c", TRAP.format(sig="TERM", code=3))
    stop = pallet.sub("stop", "-t", "5", "web", timeout=30)
    assert (stop.code, stop.out) == (0, "web\n")
    assert finish(run) == (3, "got-TERM\ndone-TERM\n")  # the handler's output reached the client
    assert pallet.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web").out == "exited 3\n"


def test_restart_of_an_attached_run_kills_it_within_the_timeout_and_the_client_exits_137(
        pallet, busybox, no_leaks):
    run = foreground(pallet, "--name", "web", busybox, "sh", "-c", "trap '' TERM; echo ready; sleep 1000")
    restart = pallet.sub("restart", "-t", "1", "web", timeout=30)
    assert (restart.code, restart.out) == (0, "web\n")
    assert finish(run) == (137, "")
    assert pallet.ok("inspect", "-f", "{{.State.Running}}", "web").out == "true\n"


def test_ctrl_c_on_a_foreground_run_reaches_the_container_and_its_output_until_it_exits(
        pallet, busybox, no_leaks):
    run = foreground(pallet, "--rm", busybox, "sh", "-c", TRAP.format(sig="INT", code=7))
    run.send_signal(signal.SIGINT)
    assert finish(run) == (7, "got-INT\ndone-INT\n")
    assert pallet.ok("ps", "-aq").out == ""


def test_attach_forwards_ctrl_c_and_relays_until_the_container_exits(pallet, busybox, no_leaks):
    pallet.ok("run", "-d", "--name", "app", busybox, "sh", "-c",
              'trap "echo got-INT; sleep 0.3; echo done-INT; exit 7" INT; '
              "while true; do echo tick; sleep 0.2; done")
    attached = subprocess.Popen([sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root),
                                 "--runroot", str(pallet.runroot), "attach", "app"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert attached.stdout.readline() == "tick\n", attached.stderr.read()
    attached.send_signal(signal.SIGINT)
    code, out = finish(attached)
    assert (code, out.replace("tick\n", "")) == (7, "got-INT\ndone-INT\n")
