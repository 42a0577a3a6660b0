"""`build` over the Engine API: the context directory as a tar (what .dockerignore leaves,
the Dockerfile always) to `POST /build`, and the classic builder's JSON stream read back
into the build events (pallet.build.events) the CLI's displays draw, so BuildKit's plain or
live display, `--progress=classic` and `-q` work as they do locally.

The stream's text is the classic builder's (`events.classic_text`); `_ClassicReader` is
its inverse, line by line: `Step N/M : TEXT` starts vertex N, ` ---> …` lines close it, and
what comes between ` ---> Running in` and the next ` ---> ` is the RUN's output.
"""
from __future__ import annotations

import os
import re

from ..errors import PalletError

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_UNUSED = re.compile(r"^\[Warning\] One or more build-args \[(.*)\] were not consumed$")


class RemoteBuilds:
    def __init__(self, transport):
        self.t = transport

    def build(self, source, emit, want_output=True, *, tags=(), build_args=None, target=None,
              no_cache=False, labels=None, network=None, secrets=None, source_date_epoch=None,
              run_limits=None, pull=False, platform=None, cache_from=()):
        from ..build import events
        from ..reference import parse_repository_tag
        from ..build.executor import BuildResult
        if secrets or run_limits:
            from .engine import RemoteUnsupported
            raise RemoteUnsupported("build --secret, --add-host, --ulimit, --shm-size, --security-opt and "
                                    "--memory are not sent to a remote engine by pallet's CLI")
        if not isinstance(want_output, bool):  # the classic form: lines and RUN's bytes
            emit = events.classic_sink(emit, want_output)
        body, dockerfile = _context_tar(source)
        params = {"t": tuple(tags), "dockerfile": dockerfile, "buildargs": build_args or None,
                  "labels": labels or None, "target": target, "nocache": no_cache or None,
                  "pull": pull or None, "networkmode": network, "platform": platform, "rm": True,
                  "cachefrom": list(cache_from) or None}  # a JSON array, as dockerd reads it
        reader = _ClassicReader(emit, events)
        image_id = ""
        for msg in self.t.request("POST", "/build", params, body).lines():
            if msg.get("error") or msg.get("errorDetail"):
                reader.end()
                raise PalletError(msg.get("error") or msg["errorDetail"].get("message") or "build failed")
            if isinstance(msg.get("aux"), dict) and msg["aux"].get("ID"):
                image_id = msg["aux"]["ID"]
            if msg.get("stream"):
                reader.feed(msg["stream"])
        reader.end()
        if not image_id:
            raise PalletError("the engine's build ended without an image")
        full = [str(parse_repository_tag(t).tagged()) for t in tags]
        return BuildResult(image_id, full, 0, 0, reader.unused_args)


class _ClassicReader:
    """The classic builder's text back into events (see the module docstring)."""

    def __init__(self, emit, events):
        self.emit, self.ev = emit, events
        self.buf, self.vertex, self.step_text, self.running = "", None, "", False
        self.unused_args: list[str] = []

    def feed(self, text: str) -> None:
        self.buf += text
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            self._line(line)

    def end(self) -> None:
        if self.buf:
            self._line(self.buf)
            self.buf = ""

    def _line(self, line: str) -> None:
        ev, v = self.ev, self.vertex
        step = _STEP.match(line)
        if step:
            n, total, text = int(step.group(1)), int(step.group(2)), step.group(3)
            self.vertex, self.step_text, self.running = n, text, False
            self.emit(ev.Step(n, f"[{n}/{total}] {text}", n, total, text))
        elif line.startswith(" ---> Running in "):
            self.running = True
            self.emit(ev.Running(v, line[len(" ---> Running in "):].strip()))
        elif line == " ---> Using cache":
            self.emit(ev.Cached(v, ""))
        elif line.startswith(" ---> Cache miss: "):
            self.emit(ev.Miss(v, line[len(" ---> Cache miss: "):]))
        elif line.startswith(" ---> "):
            self.running = False
            image = line[len(" ---> "):].strip()
            if self.step_text.upper().startswith("FROM"):
                self.emit(ev.BaseImage(v, None if image == "scratch" else image))
            else:
                self.emit(ev.StepDone(v, image))
        elif line.startswith("Removing intermediate container "):
            self.emit(ev.ContainerRemoved(v, line.rsplit(" ", 1)[-1]))
        elif self.running:
            self.emit(ev.Output(v, (line + "\n").encode()))
        elif _UNUSED.match(line):
            self.unused_args = _UNUSED.match(line).group(1).split()
        elif line and not line.startswith(("Successfully built ", "Successfully tagged ")):
            self.emit(ev.Message(v, line))


def _context_tar(source):
    """(the context as an uncompressed tar's chunks, the Dockerfile's name in it; the tar is
    spooled to a temporary file, never held whole in memory), as docker/cli sends
    it: what .dockerignore excludes stays out, the Dockerfile and .dockerignore go in, and a
    Dockerfile from outside the context (or stdin) goes in under a name of its own."""
    import io
    import tarfile
    import tempfile
    from ..build.context import BuildContext
    from ..errors import InvalidArgument
    if source.context_path == "-":
        raise InvalidArgument("a build context on stdin is not sent to a remote engine by pallet's CLI")
    context = BuildContext.from_dir(source.context_path)
    root = context.root
    name, extra = _dockerfile(root, source)
    keep = {name, ".dockerignore"}
    out = tempfile.TemporaryFile()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for entry in sorted(dirnames) + sorted(filenames):
                full = os.path.join(dirpath, entry)
                rel = os.path.relpath(full, root)
                if rel not in keep and context.matcher.excluded(rel):
                    continue
                tar.add(full, rel, recursive=False)
        if extra is not None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(extra), 0o644
            tar.addfile(info, io.BytesIO(extra))
    out.seek(0)
    return _chunks(out), name


def _chunks(f):
    with f:
        while chunk := f.read(1 << 20):
            yield chunk


def _dockerfile(root, source) -> tuple[str, bytes | None]:
    """The Dockerfile's name in the context, and its bytes when it is not in the context:
    -f is found as the local build finds it (the path as given, then under the context)."""
    from pathlib import Path
    from ..errors import NotFound
    if source.dockerfile == "-":
        return f".dockerfile.{os.urandom(10).hex()}", source.stdin.read()
    if source.dockerfile is None:
        candidates = [root / "Dockerfile", root / "dockerfile"]
    else:
        candidates = [Path(source.dockerfile), root / source.dockerfile]
    for path in candidates:
        if path.is_file():
            path = path.resolve()
            if root in path.parents:
                return str(path.relative_to(root)), None
            return f".dockerfile.{os.urandom(10).hex()}", path.read_bytes()
    raise NotFound(f"Cannot locate specified Dockerfile: {source.dockerfile or 'Dockerfile'}")
