"""The container verbs over the Engine API, with the local ContainerService's method names
and records: a record is the engine's inspect document (`GET /containers/{id}/json`),
which is what the local service's record already looks like.

`run` without -d is docker/cli's order: attach (hijacked), wait (its headers read, so the
exit is not missed even with --rm), start, relay, read the wait's answer.
"""
from __future__ import annotations

from ..errors import InvalidArgument, NotFound, NotModified, PalletError
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


class RemoteContainerFS:
    """`diff`, `export`, and `cp` (HEAD/GET/PUT /containers/{id}/archive). Between a remote
    container and a local path, docker/cli's half of the copy runs here with the local
    service's own rules and safe applier (`services.container_fs`): where the copy lands,
    `SRC/.`, ownership, and nothing written outside the destination."""
    KINDS = {0: "C", 1: "A", 2: "D"}

    def __init__(self, transport):
        self.t = transport

    def diff(self, ref: str) -> list[tuple[str, str]]:
        changes = self.t.call("GET", path_of(ID + "/changes", ref)) or []
        return [(self.KINDS.get(c.get("Kind"), "C"), c.get("Path", "")) for c in changes]

    def export(self, ref: str, out) -> None:
        for chunk in self.t.request("GET", path_of(ID + "/export", ref)).chunks():
            out.write(chunk)

    def archive(self, ref: str, src: str, out, follow: bool = False) -> None:
        for chunk in self.t.request("GET", path_of(ID + "/archive", ref), {"path": src}).chunks():
            out.write(chunk)

    def extract_into(self, ref: str, stream, dest: str, archive: bool = False) -> None:
        self.t.request("GET", path_of(ID + "/json", ref)).close()  # an unknown one fails before stdin is read
        self.t.request("PUT", path_of(ID + "/archive", ref), {"path": dest, "copyUIDGID": archive or None},
                       _chunks(stream))

    def stat(self, ref: str, path: str) -> dict:
        """The engine's X-Docker-Container-Path-Stat for `path`: name, size, mode (Go's), linkTarget."""
        import base64
        import json
        try:
            resp = self.t.request("HEAD", path_of(ID + "/archive", ref), {"path": path})
        except NotFound:  # a HEAD answer has no message: moby's client words it so
            raise NotFound(f"No such container:path: {ref}:{path}") from None
        resp.close()
        header = resp.headers.get("x-docker-container-path-stat") or ""
        return json.loads(base64.b64decode(header)) if header else {}

    def copy_out(self, ref: str, src: str, dest: str, archive: bool = False, follow: bool = False) -> None:
        import os
        import tempfile
        from ..services.container_fs import copies_contents, host_target, unpack_into
        info = self.stat(ref, src)
        if follow and info.get("linkTarget"):  # docker/cli: -L copies what the link names
            src = info["linkTarget"] if info["linkTarget"].startswith("/") else \
                os.path.join(os.path.dirname(src.rstrip("/")) or "/", info["linkTarget"])
            info = self.stat(ref, src)
        is_dir = bool(int(info.get("mode") or 0) & GO_DIR)
        parent, name = host_target(dest, is_dir, copies_contents(src, is_dir), info.get("name") or "")
        with tempfile.TemporaryFile(prefix="pallet-cp-") as spool:
            self.archive(ref, src, spool)
            fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                unpack_into(lambda out: _renamed(spool, info.get("name") or "", name, out), fd,
                            None if archive else (os.geteuid(), os.getegid()), "the destination")
            finally:
                os.close(fd)

    def copy_in(self, ref: str, src: str, dest: str, archive: bool = False, follow: bool = False) -> None:
        import os
        import stat as st_mod
        from pathlib import Path
        from ..errors import NotFound as Missing
        from ..services.container_fs import copies_contents
        from ..services.container_fs_scope import Scope
        from ..services.container_fs_tar import write_tar
        src_abs = os.path.realpath(src) if follow else os.path.abspath(src)
        try:
            is_dir = st_mod.S_ISDIR(os.lstat(src_abs).st_mode)
        except FileNotFoundError:
            raise Missing(f"lstat {src_abs}: no such file or directory") from None
        base = os.path.basename(src_abs)
        try:
            target = self.stat(ref, dest)
        except Missing:
            target = None
        if target is not None and int(target.get("mode") or 0) & GO_DIR:
            parent, name = dest, "" if copies_contents(src, is_dir) or not base else base
        elif dest.endswith("/"):
            raise Missing(f'destination directory "{dest}" must exist')
        elif target is not None and is_dir:
            raise InvalidArgument(f'cannot copy directory "{dest}": destination exists and is not a directory')
        else:
            parent, name = os.path.dirname(dest.rstrip("/")) or "/", os.path.basename(dest.rstrip("/"))
        host = Scope(Path(os.path.dirname(src_abs) or "/"))
        from .streams import piped_chunks
        body = piped_chunks(lambda out: write_tar(host, (base,) if base else (), name, out))
        self.t.request("PUT", path_of(ID + "/archive", ref), {"path": parent, "copyUIDGID": archive or None}, body)


GO_DIR = 1 << 31  # Go's os.ModeDir, in the stat header's mode


def _renamed(spool, old: str, new: str, out) -> None:
    """The archive the engine sent (its top entry named `old`) with that entry named `new`
    ("" : only what is below it), as the local copy names it."""
    import tarfile
    spool.seek(0)
    with tarfile.open(fileobj=spool, mode="r|") as src, tarfile.open(fileobj=out, mode="w|",
                                                                      format=tarfile.PAX_FORMAT) as dst:
        for member in src:
            rest = member.name[len(old):] if member.name == old or member.name.startswith(old + "/") else None
            if rest is None:
                continue
            if not new and not rest:
                continue  # the directory itself: its contents go into the destination
            member.name = (new + rest) if new else rest.lstrip("/")
            if member.islnk() and (member.linkname == old or member.linkname.startswith(old + "/")):
                tail = member.linkname[len(old):]
                member.linkname = (new + tail) if new else tail.lstrip("/")
            dst.addfile(member, src.extractfile(member) if member.isreg() else None)


def _chunks(stream):
    while chunk := stream.read(1 << 20):
        yield chunk
