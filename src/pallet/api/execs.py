"""Exec instances: POST /containers/{id}/exec, POST /exec/{id}/start (hijacked),
GET /exec/{id}/json, POST /exec/{id}/resize; and GET /containers/{id}/logs.

An exec instance is what dockerd keeps between create and start: the typed
ExecRequest the command will run with, then its exit code. It lives in this
process (as in dockerd's memory); the run itself is ContainerService.exec, the
same call `pallet exec` makes. Output goes to the client as stdcopy frames
without a TTY, raw with one; the client's half-close ends the command's stdin.
"""
from __future__ import annotations

import os
import threading

from ..errors import Conflict, ContainerCommandError, InvalidArgument, NotFound
from .wire import (HIJACKED, MULTIPLEXED_STREAM, RAW_STREAM, STDERR, STDOUT, Response, check_type, frame,
                   json_response, quick)

EXEC = r"/exec/(?P<exec_id>[^/]+)"
_TYPES = {"AttachStdin": bool, "AttachStdout": bool, "AttachStderr": bool, "Tty": bool, "Env": list,
          "Cmd": list, "User": str, "WorkingDir": str, "Privileged": bool, "DetachKeys": str}


class Exec:
    def __init__(self, exec_id: str, container_id: str, req, body: dict):
        self.id, self.container_id, self.req, self.body = exec_id, container_id, req, body
        self.running = False
        self.exit_code: int | None = None
        self.started = False
        self.terminal = None  # a -t exec's runtime.exec_terminal.ExecTerminal while it runs
        self.ready = threading.Event()  # started (or failed to): a resize may go ahead

    def inspect(self) -> dict:
        r = self.req
        return {"ID": self.id, "Running": self.running, "ExitCode": self.exit_code,
                "ProcessConfig": {"tty": r.tty, "entrypoint": r.cmd[0], "arguments": r.cmd[1:],
                                  "privileged": r.privileged, "user": r.user or ""},
                "OpenStdin": bool(self.body.get("AttachStdin")),
                "OpenStderr": bool(self.body.get("AttachStderr")),
                "OpenStdout": bool(self.body.get("AttachStdout")),
                "CanRemove": False, "ContainerID": self.container_id,
                "DetachKeys": self.body.get("DetachKeys") or "", "Pid": 0}


class Execs:
    """The service's exec instances by ID."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_id: dict[str, Exec] = {}

    def add(self, instance: Exec) -> None:
        with self.lock:
            self.by_id[instance.id] = instance

    def get(self, exec_id: str) -> Exec:
        with self.lock:
            instance = self.by_id.get(exec_id)
        if instance is None:
            raise NotFound(f"No such exec instance: {exec_id}")
        return instance


def create(service, req, ref):
    from ..services.container_types import ExecRequest
    body = req.json(required=True)
    for key, kind in _TYPES.items():
        check_type(body, key, kind, "ExecConfig.")
    if not body.get("Cmd"):
        raise InvalidArgument("No exec command specified")
    exec_req = service.engine().containers.exec_create(
        ExecRequest(container=ref, cmd=list(body["Cmd"]), env=list(body.get("Env") or []),
                    user=body.get("User") or None, workdir=body.get("WorkingDir") or None,
                    tty=bool(body.get("Tty")), interactive=bool(body.get("AttachStdin")),
                    privileged=bool(body.get("Privileged"))))
    instance = Exec(exec_req.exec_id, exec_req.container, exec_req, body)
    service.execs.add(instance)
    return json_response({"Id": instance.id}, 201)


@quick
def inspect(service, req, exec_id):
    return json_response(service.execs.get(exec_id).inspect())


def resize(service, req, exec_id):
    """POST /exec/{id}/resize?h=&w=: the running -t exec's terminal takes the new size
    (runc passes it on to the process's console); before start or after exit, nothing to do."""
    instance = service.execs.get(exec_id)
    height, width = req.int_param("h", 0), req.int_param("w", 0)
    # the client resizes as soon as start answers, before the process may exist: dockerd
    # waits up to 10 s for it, as here
    if not instance.ready.wait(10):
        raise Conflict("timeout waiting for exec session ready")
    terminal = instance.terminal
    if terminal is not None and height > 0 and width > 0:
        terminal.wait_started(10)
        try:
            terminal.resize(height, width)
        except OSError:
            pass  # it ended meanwhile
    return Response(200)


def start(service, req, exec_id):
    instance = service.execs.get(exec_id)
    body = req.json()
    check_type(body, "Detach", bool, "ExecStartConfig.")
    if instance.started:
        raise InvalidArgument(f"Error: Exec command {exec_id} has already run")  # dockerd: 409? kept 400
    instance.started = True
    svc = service.engine().containers
    if not instance.req.tty or body.get("Detach"):
        instance.ready.set()  # no terminal of ours to size
    if body.get("Detach"):
        from ..services.container_types import ExecRequest
        r = instance.req
        detached = ExecRequest(container=r.container, cmd=r.cmd, env=r.env, user=r.user, workdir=r.workdir,
                               tty=r.tty, privileged=r.privileged, detach=True, exec_id=r.exec_id)
        _run(instance, lambda: svc.exec(detached))
        return Response(200)
    client, leftover = req.hijack(RAW_STREAM if instance.req.tty else MULTIPLEXED_STREAM)
    if instance.req.tty:
        _attached_terminal(svc, instance, client, leftover)
    else:
        _attached(svc, instance, client, leftover)
    return HIJACKED


class _SocketOut:
    """The hijacked socket as the file ExecTerminal.relay writes to."""

    def __init__(self, client):
        self.write, self.flush = client.sendall, lambda: None


def _attached_terminal(svc, instance: Exec, client, leftover: bytes) -> None:
    """A -t exec relayed through the terminal pallet holds (as `pallet exec -it`), so that
    /exec/{id}/resize can size it while it runs; a dropped client ends the relay only."""
    from .streams import end
    size = instance.body.get("ConsoleSize")
    size = tuple(size) if isinstance(size, list) and len(size) == 2 and \
        all(isinstance(n, int) and n > 0 for n in size) else None
    interactive = instance.req.interactive
    instance.running = True
    try:
        instance.req.console_size = size
        terminal = svc.exec_terminal(instance.req)
    except Exception as exc:  # noqa: BLE001 - the answer began: the error goes in the stream
        instance.running, instance.exit_code = False, 126
        instance.ready.set()
        _send_quietly(client, (str(exc) + "\r\n").encode())
        end(client)
        return
    instance.terminal = terminal
    instance.ready.set()
    try:
        if leftover and interactive:
            os.write(terminal.master, leftover)
        try:
            detached = terminal.relay(_SocketOut(client), None, client if interactive else None)
        except OSError:  # the client went away: runc and the process carry on
            detached = True
        if not detached:
            instance.exit_code = terminal.wait()
    except Exception as exc:  # noqa: BLE001
        _send_quietly(client, (str(exc) + "\r\n").encode())
        if instance.exit_code is None:
            instance.exit_code = 126
    finally:
        instance.terminal, instance.running = None, False
        terminal.close()
        end(client)


def _send_quietly(client, data: bytes) -> None:
    try:
        client.sendall(data)
    except OSError:
        pass


def _run(instance: Exec, call) -> None:
    instance.running = True
    try:
        instance.exit_code = call()
    except ContainerCommandError as exc:
        instance.exit_code = exc.exit_code
        raise
    finally:
        instance.running = False


def _terminal(size) -> tuple[int, int]:
    """A pty for runc to relay the exec's own pty through (runc wants a terminal on its
    stdio; the service has none): raw, so nothing is echoed or translated twice."""
    import fcntl
    import pty
    import struct
    import termios
    import tty
    master, slave = pty.openpty()
    tty.setraw(slave)
    if isinstance(size, list) and len(size) == 2 and all(isinstance(n, int) and n > 0 for n in size):
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    return master, slave


def _attached(svc, instance: Exec, client, leftover: bytes) -> None:
    from .streams import end, pump_output, pump_stdin
    tty = instance.req.tty
    if tty:
        master, out_w = _terminal(instance.body.get("ConsoleSize"))
        out_r, err_r, err_w = os.dup(master), None, None
    else:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
    stdin_r = None
    if tty and instance.req.interactive:
        stdin_r = out_w
        pump_stdin(client, leftover, master)
    elif tty:
        os.close(master)
    elif instance.req.interactive:
        stdin_r, stdin_w = os.pipe()
        pump_stdin(client, leftover, stdin_w)
    pumps = [pump_output(out_r, client, None if tty else STDOUT)]
    if err_r is not None:
        pumps.append(pump_output(err_r, client, STDERR))
    try:
        _run(instance, lambda: svc.exec(instance.req, stdin=stdin_r, stdout=out_w,
                                        stderr=err_w if err_w is not None else out_w))
    except Exception as exc:  # noqa: BLE001 - the answer began: the error goes in the stream, as dockerd's
        message = (str(exc) + "\r\n").encode()
        try:
            client.sendall(message if tty else frame(STDOUT, message))
        except OSError:
            pass
        if instance.exit_code is None:
            instance.exit_code = 126
    finally:
        for fd in {out_w, err_w, stdin_r} - {None}:
            os.close(fd)
        for pump in pumps:
            pump.join()
        end(client)


def logs(service, req, ref):
    from ..services.container_types import LogsRequest
    stdout, stderr = req.flag("stdout"), req.flag("stderr")
    if not (stdout or stderr):
        raise InvalidArgument("Bad parameters: you must choose at least one stream")
    svc = service.engine().containers
    record = svc.get(ref)
    tail = req.param("tail") or "all"
    logs_req = LogsRequest(container=record["Id"], follow=req.flag("follow"),
                           tail=None if tail == "all" or not tail.lstrip("-").isdigit() or int(tail) < 0
                           else int(tail),
                           since=_epoch(req.param("since")), until=_epoch(req.param("until")))
    records = svc.logs(logs_req)
    tty, stamps = record["Config"]["Tty"], req.flag("timestamps")

    def body():
        for rec in records:
            is_err = rec.stream == "stderr"
            if (is_err and not stderr) or (not is_err and not stdout):
                continue
            data = (rec.timestamp().encode() + b" " + rec.data) if stamps else rec.data
            yield data if tty else frame(STDERR if is_err else STDOUT, data)
    return Response(200, body(), RAW_STREAM if tty else MULTIPLEXED_STREAM)


def _epoch(text: str | None) -> float | None:
    """since/until as docker/cli sends them: Unix seconds, maybe with a fraction; 0 is unset."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidArgument(f"invalid timestamp: {text!r}") from None
    return value or None


ROUTES = [
    ("POST", r"/containers/(?P<ref>[^/]+)/exec", create),
    ("GET", r"/containers/(?P<ref>[^/]+)/logs", logs),
    ("POST", EXEC + "/start", start),
    ("POST", EXEC + "/resize", resize),
    ("GET", EXEC + "/json", inspect),
]
