"""/containers/...: each endpoint decodes, calls one ContainerService method, renders.

Attach before start (what `docker run` does) needs the one piece of state the
service keeps between requests: a pending attach waits in `Handoffs` until the
start request of the same container hands it conmon's attach socket, connected
before the process runs, so no output is lost. A container started elsewhere (a
`pallet start`) is attached to once it runs.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time

from ..errors import Conflict, InvalidArgument, NotModified
from .create_body import create_request
from .wire import (MULTIPLEXED_STREAM, RAW_STREAM, HIJACKED, Response, json_response, no_content,
                   quick, shared_json_response)

ID = r"/containers/(?P<ref>[^/]+)"


def _svc(service):
    return service.engine().containers


def create(service, req):
    body = req.json(required=True)
    request = create_request(body, req.param("name"))
    _check_platform(service, request.image, req.param("platform"))
    _check_network(service, request.network)
    cid = _svc(service).create(request)
    return json_response({"Id": cid, "Warnings": []}, 201)


def _check_platform(service, image: str, platform: str | None) -> None:
    """?platform= names which stored image create may use: one of another platform is
    missing (404, dockerd's ErrImageDoesNotExist), so the docker CLI pulls, as `pallet run`."""
    images = service.engine().images
    if platform and images.exists(image) and not images.matches_platform(image, platform):
        from ..errors import NotFound
        from ..reference import familiar, parse
        raise NotFound(f"No such image: {familiar(str(parse(image).tagged()))}")


def _check_network(service, network: str) -> None:
    """The docker CLI takes any 404 from create for a missing image and pulls it; a missing
    network is refused in the same words, nothing made, as `pallet run` refuses it, but as
    a 400 so no pull follows. (dockerd creates the container and fails at start instead.)"""
    from ..errors import NotFound
    if network in ("bridge", "host", "none", "default") or network.startswith("container:"):
        return
    try:
        service.engine().networks.get(network)
    except NotFound as exc:
        raise InvalidArgument(str(exc)) from None


@quick(unless="size")
def list_containers(service, req):
    from ..dockerjson.container_summary import container_summary
    svc = _svc(service)
    from ..services.container_types import ListRequest
    limit = req.int_param("limit", -1)
    records = svc.list(ListRequest(all=req.flag("all"), filters=req.filters(),
                                   last=limit if limit and limit > 0 else -1, size=req.flag("size")))
    now = time.time()
    return json_response([container_summary(svc, r, now) for r in records])


@quick
def inspect(service, req, ref):
    return shared_json_response(_svc(service).inspect(ref))


def start(service, req, ref):
    svc = _svc(service)
    record = svc.get(ref)
    if record["State"]["Running"] and not record["State"]["Paused"]:
        raise NotModified("container already started")
    handoff = service.handoffs.take(record["Id"])
    try:
        svc.start(record["Id"], attach_to=handoff.give if handoff else None)
    except BaseException:
        if handoff:
            handoff.give(None)
        if record["HostConfig"].get("AutoRemove"):  # dockerd removes a --rm container that
            _remove_quietly(svc, record["Id"])      # failed to start; the CLI's wait ends
        raise
    return no_content()


def _remove_quietly(svc, cid: str) -> None:
    from ..errors import NotFound
    try:
        svc.remove(cid, force=True)
    except NotFound:
        pass


def stop(service, req, ref):
    svc = _svc(service)
    if not svc.get(ref)["State"]["Running"]:
        raise NotModified("container already stopped")
    svc.stop(ref, req.int_param("t"), req.param("signal") or None)
    return no_content()


def restart(service, req, ref):
    _svc(service).restart(ref, req.int_param("t"))
    return no_content()


def kill(service, req, ref):
    _svc(service).kill(ref, req.param("signal") or "KILL")  # errors in dockerd's words, from the service
    return no_content()


def wait(service, req, ref):
    block = _svc(service).wait_condition(ref, req.param("condition") or "not-running")

    def body():  # the headers go out first: docker run starts the container only then
        yield b""
        try:
            doc = {"StatusCode": block(), "Error": None}
        except Exception as exc:  # noqa: BLE001 - reported in the body, as dockerd does
            doc = {"StatusCode": -1, "Error": {"Message": str(exc)}}
        yield (json.dumps(doc) + "\n").encode()
    return Response(200, body(), "application/json")


def remove(service, req, ref):
    _svc(service).remove(ref, force=req.flag("force"), volumes=req.flag("v"))
    return no_content()


def rename(service, req, ref):
    _svc(service).rename(ref, req.param("name") or "")  # moby's daemon refuses an empty name
    return no_content()


def pause(service, req, ref):
    _svc(service).pause(ref)
    return no_content()


def unpause(service, req, ref):
    _svc(service).unpause(ref)
    return no_content()


def resize(service, req, ref):
    _svc(service).resize(ref, req.int_param("h", 0), req.int_param("w", 0))
    return Response(200)


def attach(service, req, ref):
    from .streams import end, relay_attach
    svc = _svc(service)
    record = svc.get(ref)
    cid, tty = record["Id"], record["Config"]["Tty"]
    stdin = req.flag("stdin") and record["Config"]["OpenStdin"]
    handoff = None
    if not record["State"]["Running"]:
        if record["HostConfig"].get("AutoRemove") and record["State"]["StartedAt"] != "0001-01-01T00:00:00Z":
            raise Conflict("You cannot attach to a stopped container, start it first")
        handoff = service.handoffs.offer(cid)
    client, leftover = req.hijack(RAW_STREAM if tty else MULTIPLEXED_STREAM)
    if handoff is not None:
        conmon = handoff.wait(lambda: _running(svc, cid))
        if conmon is None:
            try:
                conmon = svc.attach(cid).sock
            except Exception:  # noqa: BLE001 - it never started, or already ended
                end(client)
                return HIJACKED
    else:
        conmon = svc.attach(cid).sock
    relay_attach(conmon, client, leftover, tty=tty, stdin=stdin,
                 stdout=req.flag("stdout"), stderr=req.flag("stderr"))
    return HIJACKED


def _running(svc, cid: str) -> bool:
    try:
        return svc.get(cid)["State"]["Running"]
    except Exception:  # noqa: BLE001 - removed: stop waiting
        return True


def top(service, req, ref):
    args = (req.param("ps_args") or "").split()
    titles, rows = _svc(service).top(ref, args)
    return json_response({"Titles": titles, "Processes": rows})


_UPDATE = {"Memory": "memory", "MemorySwap": "memory_swap", "NanoCpus": "nano_cpus", "CpuShares": "cpu_shares",
           "CpuPeriod": "cpu_period", "CpuQuota": "cpu_quota", "CpusetCpus": "cpuset_cpus",
           "CpusetMems": "cpuset_mems", "PidsLimit": "pids_limit"}


def update(service, req, ref):
    from ..services.container_types import UpdateRequest
    from .wire import check_type
    body = req.json(required=True)
    for key in _UPDATE:
        check_type(body, key, str if key.startswith("Cpuset") else int, "UpdateConfig.")
    fields = {name: body[key] for key, name in _UPDATE.items() if body.get(key) not in (None, 0, "")}
    policy = body.get("RestartPolicy") or {}
    if policy.get("Name"):
        count = policy.get("MaximumRetryCount") or 0
        fields["restart"] = f"on-failure:{count}" if policy["Name"] == "on-failure" and count else policy["Name"]
    _svc(service).update(ref, UpdateRequest(**fields))
    return json_response({"Warnings": []})


def stats(service, req, ref):
    """GET /containers/{id}/stats: one frame (`stream=false`) or one a second, in Docker's
    StatsResponse shape, from the samples `pallet stats` shows."""
    from ..dockerjson.container_stats import stats_response
    svc = _svc(service)
    cid = svc.resolve(ref)
    stream = req.flag("stream", True) and not req.flag("one-shot")

    def frames():
        while True:
            rows = svc.stats([cid])
            yield (json.dumps(stats_response(rows[0])) + "\n").encode()
            if not stream or not rows[0].record["State"]["Running"]:
                return
            time.sleep(0.5)
    if not stream:
        return json_response(stats_response(svc.stats([cid])[0]))
    return Response(200, frames(), "application/json")


def prune(service, req):
    deleted, freed = _svc(service).prune(req.filters() or None)
    return json_response({"ContainersDeleted": deleted or None, "SpaceReclaimed": freed})


class Handoff:
    def __init__(self):
        self.ready = threading.Event()
        self.sock = None

    def give(self, attachment) -> None:
        """Called by start with its Attachment, connected before the process ran (start
        closes it when this returns: keep a duplicate of its socket); None if start failed."""
        sock = attachment.sock if attachment is not None else None
        self.sock = socket.socket(fileno=os.dup(sock.fileno())) if sock is not None else None
        self.ready.set()

    def wait(self, started_elsewhere, poll: float = 0.2) -> socket.socket | None:
        while not self.ready.wait(poll):
            if started_elsewhere():
                return None
        return self.sock


class Handoffs:
    """Pending attaches by container ID (see the module docstring)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pending: dict[str, Handoff] = {}

    def offer(self, cid: str) -> Handoff:
        with self.lock:
            return self.pending.setdefault(cid, Handoff())

    def take(self, cid: str) -> Handoff | None:
        with self.lock:
            return self.pending.pop(cid, None)


ROUTES = [
    ("POST", "/containers/create", create),
    ("POST", "/containers/prune", prune),
    ("GET", "/containers/json", list_containers),
    ("GET", ID + "/json", inspect),
    ("POST", ID + "/start", start),
    ("POST", ID + "/stop", stop),
    ("POST", ID + "/restart", restart),
    ("POST", ID + "/kill", kill),
    ("POST", ID + "/wait", wait),
    ("DELETE", ID, remove),
    ("POST", ID + "/rename", rename),
    ("POST", ID + "/pause", pause),
    ("POST", ID + "/unpause", unpause),
    ("POST", ID + "/resize", resize),
    ("POST", ID + "/attach", attach),
    ("GET", ID + "/top", top),
    ("GET", ID + "/stats", stats),
    ("POST", ID + "/update", update),
]
