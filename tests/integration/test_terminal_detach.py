"""Detaching from a container's terminal as Docker does, under a real pty.

pallet runs in a pseudo-terminal (the `Terminal` of test_terminal_resize), as in a
terminal emulator. The detach keys (ctrl-p,ctrl-q unless --detach-keys or config.json's
detachKeys say otherwise) leave the container running: `run -it` and `start -ai` then
exit 0 silently, `attach` and `exec -it` print "read escape sequence" and exit 1, as
docker/cli does with moby's EscapeError.
"""
from __future__ import annotations

import json
import os
import select
import termios
import time

from polling import wait_for
from test_terminal_resize import Terminal, terminals  # noqa: F401  (fixture)

CTRL_P, CTRL_Q = "\x10", "\x11"


def _running(pallet, cid: str) -> bool:
    return pallet.ok("inspect", "-f", "{{.State.Running}}", cid).out.strip() == "true"


def _attach(pallet, terminals, *args: str) -> Terminal:
    """`pallet ARGS` in a terminal, once it has put the terminal in raw mode (attached):
    what is typed before that is the cooked terminal's, as for a user who types ahead."""
    t = terminals(pallet, *args)
    assert wait_for(lambda: not termios.tcgetattr(t.fd)[3] & termios.ECHO, timeout=60)
    return t


def _shell_answers(t: Terminal) -> None:
    """The shell still reads what we type: its stdin was left open."""
    t.send("echo R$((40+2))\r")
    t.expect("R42")
    t.expect("# ")  # and its next prompt, so nothing of the shell's is still on its way
    settle = time.monotonic() + 1  # busybox's line editor asks the cursor's place after it
    while b"\x1b[6n" not in t.seen and time.monotonic() < settle:
        if select.select([t.fd], [], [], max(0, settle - time.monotonic()))[0]:
            t.seen += os.read(t.fd, 4096)


def _detach(t: Terminal, keys: str = CTRL_P + CTRL_Q) -> tuple[int, str]:
    """Type `keys`; pallet's exit code and all it showed until it ended."""
    t.send(keys)
    shown = bytearray()
    code = None

    def drain() -> None:
        while select.select([t.fd], [], [], 0)[0]:
            try:
                chunk = os.read(t.fd, 4096)
            except OSError:  # EIO: the terminal has no process left
                return
            if not chunk:
                return
            shown.extend(chunk)

    def ended() -> bool:
        nonlocal code
        drain()
        pid, status = os.waitpid(t.pid, os.WNOHANG)
        if pid:
            t.pid, code = 0, os.waitstatus_to_exitcode(status)
            drain()  # what it wrote just before it exited
        return code is not None
    assert wait_for(ended, timeout=60), f"pallet did not end; it showed {bytes(shown[-300:])!r}"
    return code, shown.decode(errors="replace")


def test_run_it_detaches_on_ctrl_p_ctrl_q_and_the_container_runs_on(pallet, busybox, terminals):
    t = terminals(pallet, "run", "-it", "--network", "none", "busybox", "sh")
    t.expect("# ")
    cid = pallet.ok("ps", "-q", "--no-trunc").out.strip()
    code, shown = _detach(t)
    assert code == 0 and "read escape sequence" not in shown  # Docker: silent, exit 0
    assert "Up " in pallet.ok("ps", "--filter", f"id={cid}").out
    again = _attach(pallet, terminals, "attach", cid)
    again.send("\r")
    _shell_answers(again)
    assert _detach(again)[0] == 1
    assert _running(pallet, cid)
    pallet.ok("rm", "-f", cid)


def test_attach_to_dit_container_is_raw_and_detaches(pallet, busybox, terminals):
    cid = pallet.ok("run", "-dit", "--network", "none", "busybox", "sh").out.strip()
    t = _attach(pallet, terminals, "attach", cid)
    t.send("\r")  # the prompt was printed before we attached: ask for a new one
    t.expect("# ")
    # raw mode: only the container's terminal echoes what we type, once
    t.send("echo A$((1+1))B\r")
    before = t.expect("A2B\r\n")
    assert before.count("echo A$((1+1))B") == 1, before
    # an escape prefix followed by another key passes both to the container
    t.send("read -r line; printf %s \"$line\" | od -An -tx1\r")
    t.send(CTRL_P + "a\r")
    t.expect(" 10 61")
    code, shown = _detach(t)
    assert code == 1 and "read escape sequence" in shown
    assert _running(pallet, cid)
    for verb in (("attach",), ("start", "-ai")):  # docker/cli's CheckTty: a pipe is refused
        r = pallet(*verb, cid, stdin=b"exit\n")
        assert (r.code, r.err.strip()) == (1, "Error: the input device is not a TTY")
    assert _running(pallet, cid)
    pallet.ok("rm", "-f", cid)


def test_start_ai_of_a_running_container_attaches_to_it(pallet, busybox, terminals):
    # dockerd answers the start with 304 and docker/cli goes on attached, as `attach` does
    cid = pallet.ok("run", "-dit", "--network", "none", "busybox", "sh").out.strip()
    t = _attach(pallet, terminals, "start", "-ai", cid)
    t.send("\r")
    t.expect("# ")
    _shell_answers(t)
    assert _detach(t) == (0, "")  # start's detach: silent, exit 0
    assert _running(pallet, cid)
    t = _attach(pallet, terminals, "start", "-ai", cid)
    code, _shown = _detach(t, "exit 3\r")  # the shell ends: start -a exits with its code
    assert code == 3
    assert pallet.ok("inspect", "-f", "{{.State.ExitCode}}", cid).out.strip() == "3"
    pallet.ok("rm", "-f", cid)


def test_detach_keys_from_config_json_and_the_flag(pallet, busybox, terminals, tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text(json.dumps({"detachKeys": "ctrl-e,e"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    cid = pallet.ok("create", "-it", "--network", "none", "busybox", "sh").out.strip()
    t = _attach(pallet, terminals, "start", "-ai", cid)
    t.expect("# ")
    t.send(CTRL_P + CTRL_Q + "\x03")  # config's keys replace the default, which now reach
    _shell_answers(t)                  # the shell's line editor (ctrl-c there drops the line)
    assert _detach(t, "\x05e") == (0, "")  # start -ai: silent, exit 0, as run -it
    t = _attach(pallet, terminals, "attach", "--detach-keys", "ctrl-a", cid)  # the flag wins
    t.send("\x05e\x03")
    _shell_answers(t)
    assert _detach(t, "\x01")[0] == 1
    assert _running(pallet, cid)
    pallet.ok("rm", "-f", cid)


def test_invalid_detach_keys_are_refused_before_anything_runs(pallet, busybox):
    r = pallet("run", "--detach-keys", "ctrl-", "--network", "none", "busybox", "true")
    assert (r.code, r.err.strip()) == (1, "Error: Invalid detach keys (ctrl-) provided")
    assert pallet.ok("ps", "-aq").out == ""
    cid = pallet.ok("run", "-d", "--network", "none", "busybox", "sleep", "60").out.strip()
    r = pallet("attach", "--detach-keys", "foo", cid)
    assert (r.code, r.err.strip()) == (1, "Error: Invalid detach keys (foo) provided")
    r = pallet("exec", "-d", "--detach-keys", "ctrl-é", cid, "true")  # exec's daemon words
    assert (r.code, r.err.strip()) == (1, "Error: Invalid escape keys (ctrl-é) provided")
    pallet.ok("rm", "-f", cid)


def test_exec_it_detaches_and_the_process_runs_on(pallet, busybox, terminals):
    cid = pallet.ok("run", "-d", "--network", "none", "busybox", "sleep", "300").out.strip()
    t = _attach(pallet, terminals, "exec", "-it", cid, "sh")
    t.expect("# ")
    t.send("exec sleep 4321\r")

    def sleeping() -> bool:
        return "sleep 4321" in pallet.ok("exec", cid, "ps").out
    assert wait_for(sleeping, timeout=30)
    code, shown = _detach(t)
    assert code == 1 and "read escape sequence" in shown
    assert sleeping()  # pallet has gone; the exec'd process runs on
    detaches = pallet.ok("events", "--since", "0", "--until", str(time.time()), "--filter", "event=exec_detach",
                         "--format", "{{.Action}} {{.Actor.ID}} {{len .Actor.Attributes.execID}}").lines
    assert detaches == [f"exec_detach {cid} 64"]  # as dockerd logs it
    t = terminals(pallet, "exec", "-it", "--detach-keys", "ctrl-x", cid, "nosuch")
    assert _detach(t, "")[0] == 127  # a command that cannot start: Docker's exit code
    pallet.ok("rm", "-f", cid)
