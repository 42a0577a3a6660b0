"""The container verbs over the Engine API, with the local ContainerService's method names
and records: a record is the engine's inspect document (`GET /containers/{id}/json`),
which is what the local service's record already looks like.

`run` without -d is docker/cli's order: attach (hijacked), wait (its headers read, so the
exit is not missed even with --rm), start, relay, read the wait's answer.
"""
from __future__ import annotations

from ..errors import NotFound, NotModified, PalletError
from .transport import path_of

ID = "/containers/{}"


class RemoteContainers:
    def __init__(self, transport):
        self.t = transport
        self._warnings: list[str] = []
        self._waits: dict[str, object] = {}  # cid -> a wait request whose answer is pending

    # ---- reading ----
    def get(self, ref: str) -> dict:
        return self.t.call("GET", path_of(ID + "/json", ref))

    def inspect(self, ref: str) -> dict:
        return self.get(ref)

    def resolve(self, ref: str) -> str:
        return self.get(ref)["Id"]

    def list(self, req) -> list[dict]:
        """Summaries, then each container's record (ps renders records, in the engine's order)."""
        limit = 1 if req.latest else req.last
        summaries = self.t.call("GET", "/containers/json", {
            "all": req.all or limit > 0, "limit": limit if limit > 0 else None, "size": req.size or None,
            "filters": req.filters or None})
        records = []
        for s in summaries or []:
            try:
                record = self.get(s["Id"])
            except NotFound:  # removed since it was listed
                continue
            record["SizeRw"], record["SizeRootFs"] = s.get("SizeRw") or 0, s.get("SizeRootFs") or 0
            records.append(record)
        return records

    def top(self, ref: str, ps_args: list[str]) -> tuple[list[str], list[list[str]]]:
        doc = self.t.call("GET", path_of(ID + "/top", ref), {"ps_args": " ".join(ps_args) or None})
        return doc.get("Titles") or [], doc.get("Processes") or []

    def ports(self, ref: str) -> dict:
        """`port`: the host bindings of a running container (exposed-only ports have none)."""
        record = self.get(ref)
        if not record["State"].get("Running"):
            return {}
        ports = (record.get("NetworkSettings") or {}).get("Ports") or {}
        return {key: binds for key, binds in ports.items() if binds}

    def prune(self, filters: dict | None = None) -> tuple[list[str], int]:
        doc = self.t.call("POST", "/containers/prune", {"filters": filters or None}) or {}
        return doc.get("ContainersDeleted") or [], int(doc.get("SpaceReclaimed") or 0)

    def logs(self, req):
        return _log_records(self.t, req, self.get(req.container)["Config"].get("Tty", False))

    # ---- lifecycle ----
    def create(self, req) -> str:
        from .create_body import create_body
        doc = self.t.call("POST", "/containers/create", {"name": req.name}, create_body(req))
        self._warnings = list(doc.get("Warnings") or [])
        return doc["Id"]

    def create_warnings(self, req) -> list[str]:
        return self._warnings

    def start(self, ref: str, attach_to=None) -> None:
        attachment = self.attach(ref, stream_only=True) if attach_to is not None else None
        try:
            try:
                self.t.request("POST", path_of(ID + "/start", ref), ok=(204, 200, 304))
            except PalletError as exc:
                raise _command_error(exc) from None
            if attachment is not None:
                attach_to(attachment)
        finally:
            if attachment is not None:
                attachment.close()

    def attach(self, ref: str, stream_only: bool = False):
        from .streams import RemoteAttachment
        record = self.get(ref)
        config, state = record["Config"], record["State"]
        if not stream_only and not state.get("Running"):  # docker/cli asks before it attaches
            from ..errors import Conflict
            raise Conflict("You cannot attach to a stopped container, start it first")
        if not stream_only and state.get("Paused"):
            from ..errors import Conflict
            raise Conflict("You cannot attach to a paused container, unpause it first")
        sock, leftover = self.t.hijack("POST", path_of(ID + "/attach", record["Id"]), {
            "stream": True, "stdin": bool(config.get("OpenStdin")), "stdout": True, "stderr": True})
        return RemoteAttachment(self.t, sock, leftover, tty=bool(config.get("Tty")),
                                open_stdin=bool(config.get("OpenStdin")),
                                resize_path=path_of(ID + "/resize", record["Id"]))

    def foreground(self, cid: str):
        """While held, the exit of `cid` is being waited for (its wait request is sent now)."""
        return _Waiting(self, cid)

    def wait(self, ref: str) -> int:
        pending = self._waits.pop(ref, None)
        resp = pending or self.t.request("POST", path_of(ID + "/wait", ref))
        doc = resp.json() or {}
        if doc.get("Error") and doc["Error"].get("Message"):
            raise PalletError(doc["Error"]["Message"])
        return int(doc.get("StatusCode", 0))

    def stop_many(self, refs, timeout, signal, on_error):
        for ref in refs:
            try:
                self.stop(ref, timeout, signal)
            except PalletError as exc:
                on_error(ref, exc)
                continue
            yield ref

    def stop(self, ref: str, timeout=None, signal=None) -> None:
        try:
            self.t.request("POST", path_of(ID + "/stop", ref), {"t": timeout, "signal": signal})
        except NotModified:
            pass  # already stopped: docker stop says nothing

    def restart(self, ref: str, timeout=None) -> None:
        self.t.request("POST", path_of(ID + "/restart", ref), {"t": timeout})

    def kill(self, ref: str, signal: str = "KILL") -> None:
        self.t.request("POST", path_of(ID + "/kill", ref), {"signal": signal})

    def forward_signal(self, cid: str, sig: str) -> None:
        try:
            self.kill(cid, sig)
        except PalletError:
            pass  # already gone

    _signal = forward_signal

    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        self.t.request("DELETE", path_of(ID, ref), {"force": force or None, "v": volumes or None})

    def rename(self, ref: str, name: str) -> None:
        self.t.request("POST", path_of(ID + "/rename", ref), {"name": name})

    def pause(self, ref: str) -> None:
        self.t.request("POST", path_of(ID + "/pause", ref))

    def unpause(self, ref: str) -> None:
        self.t.request("POST", path_of(ID + "/unpause", ref))

    # ---- exec ----
    def exec(self, req, stdin=None, stdout=None, stderr=None) -> int:
        from .streams import Demux, relay
        exec_id = self._exec_create(req)
        if req.detach:
            self.t.request("POST", path_of("/exec/{}/start", exec_id), body={"Detach": True})
            return 0
        sock, leftover = self.t.hijack("POST", path_of("/exec/{}/start", exec_id),
                                       body={"Detach": False, "Tty": req.tty})
        try:
            relay(sock, leftover, Demux(_binary(stdout), _binary(stderr), req.tty),
                  _binary(stdin) if req.interactive else None)
        finally:
            sock.close()
        return self._exec_exit(exec_id)

    def exec_terminal(self, req):
        from .streams import RemoteAttachment
        exec_id = self._exec_create(req)
        sock, leftover = self.t.hijack("POST", path_of("/exec/{}/start", exec_id),
                                       body={"Detach": False, "Tty": True})
        attachment = RemoteAttachment(self.t, sock, leftover, tty=True, open_stdin=True,
                                      resize_path=path_of("/exec/{}/resize", exec_id))
        attachment.wait = lambda: self._exec_exit(exec_id)
        return attachment

    def _exec_create(self, req) -> str:
        body = {"Cmd": req.cmd, "Env": req.env or None, "User": req.user or "", "WorkingDir": req.workdir or "",
                "Tty": req.tty, "AttachStdin": req.interactive and not req.detach,
                "AttachStdout": not req.detach, "AttachStderr": not req.detach, "Privileged": req.privileged}
        if req.console_size:
            body["ConsoleSize"] = list(req.console_size)
        return self.t.call("POST", path_of(ID + "/exec", req.container), body=body)["Id"]

    def _exec_exit(self, exec_id: str) -> int:
        import time
        for _ in range(100):  # the stream ends as the process does; its code follows at once
            doc = self.t.call("GET", path_of("/exec/{}/json", exec_id))
            if not doc.get("Running"):
                return int(doc.get("ExitCode") or 0)
            time.sleep(0.05)
        return int(doc.get("ExitCode") or 0)


def _command_error(exc: PalletError) -> PalletError:
    """The exit code docker/cli gives a start the runtime refused (its toStatusError reads
    the daemon's message, the only place the wire carries it): 127 for a command not found,
    126 for one that cannot be run; the local service raises the same ContainerCommandError."""
    from ..errors import ContainerCommandError
    text = str(exc)
    if "executable file not found" in text or "no such file or directory" in text:
        return ContainerCommandError(text, 127)
    if "permission denied" in text:
        return ContainerCommandError(text, 126)
    return exc


class _Waiting:
    def __init__(self, svc: RemoteContainers, cid: str):
        self.svc, self.cid = svc, cid

    def __enter__(self):
        self.svc._waits[self.cid] = self.svc.t.request("POST", path_of(ID + "/wait", self.cid),
                                                       {"condition": "next-exit"})
        return self

    def __exit__(self, *exc) -> None:
        pending = self.svc._waits.pop(self.cid, None)
        if pending is not None:
            pending.close()


def _binary(stream):
    return getattr(stream, "buffer", stream) if stream is not None else None


class RemoteLogRecord:
    """One log line as the local LogRecord shows it: stream, data, Docker's -t timestamp."""
    __slots__ = ("stream", "data", "_timestamp")

    def __init__(self, stream: str, data: bytes, timestamp: str):
        self.stream, self.data, self._timestamp = stream, data, timestamp

    def timestamp(self) -> str:
        return self._timestamp


def _log_records(t, req, tty: bool):
    """Asked with timestamps: every line arrives as "TIMESTAMP data"; the CLI decides
    whether to print the timestamp, as it does for local records."""
    from .streams import frames
    resp = t.request("GET", path_of(ID + "/logs", req.container), {
        "stdout": True, "stderr": True, "follow": req.follow or None, "timestamps": True,
        "tail": req.tail if req.tail is not None else "all",
        "since": _epoch(req.since), "until": _epoch(req.until)})
    pending = {1: b"", 2: b""}
    for stream, payload in frames(resp.chunks(), tty):
        buf = pending[2 if stream == 2 else 1] + payload
        *whole, rest = buf.split(b"\n")
        pending[2 if stream == 2 else 1] = rest
        for line in whole:
            stamp, _, data = line.partition(b" ")
            yield RemoteLogRecord("stderr" if stream == 2 else "stdout", data + b"\n", stamp.decode())
    for stream, rest in pending.items():
        if rest:
            stamp, _, data = rest.partition(b" ")
            yield RemoteLogRecord("stderr" if stream == 2 else "stdout", data, stamp.decode())


def _epoch(when: float | None) -> str | None:
    return None if when is None else f"{when:.9f}"
