"""`up`/`create`/`start`: bringing a project's containers to what its files describe.

Owns docker compose's convergence: containers are created in dependency order, then
started level by level, each service after its dependencies meet their condition
(`service_started`; `service_healthy`: the dependency's health check says healthy;
`service_completed_successfully`: it exited 0). An existing container is kept when
its config hash and image are unchanged (`Running`), recreated when either changed or
`--force-recreate` (`Recreate`/`Recreated`), never with `--no-recreate`; replicas
beyond the scale are removed, missing ones created with the next numbers.
Progress leaves as `event(resource, status)` calls; nothing here prints.
"""
from __future__ import annotations

import time

from ..errors import Conflict, NotFound, PalletError
from ..services.compose_types import UpOptions
from . import plan, state
from .plan import P
from .project import config_hash

POLL = 0.01  # a health status is seen within 10 ms of being recorded (a read costs ~0.3 ms)


class DependencyFailed(PalletError):
    """A dependency did not reach its condition (unhealthy, or exited non-zero)."""


def targets(project, services: list[str], no_deps: bool) -> list[str]:
    if no_deps and services:
        for s in services:
            project.service(s)
        return project.ordered(list(services))
    return project.ordered(project.with_dependencies(list(services)))


def create(compose, opts: UpOptions) -> list[str]:
    """Create (or keep, or recreate) the containers of the target services; their names."""
    project, engine = compose.project, compose.engine
    names = targets(project, opts.services, opts.no_deps)
    compose.ensure_images(names, opts.build, opts.pull)
    from . import resources
    resources.ensure_networks(engine, project, resources.used_networks(project, names), compose.event)
    resources.ensure_volumes(engine, project, resources.used_volumes(project, names), compose.event)
    compose.handle_orphans(opts.remove_orphans)
    recreated: set[str] = set()
    for service in names:
        mode = project.services[service].get("network_mode") or ""
        joined = mode.startswith("service:") and mode[8:] in recreated  # its namespace is gone
        if _converge_service(compose, service, opts, force=joined):
            recreated.add(service)
    _restart_dependents(compose, names, recreated, opts.timeout)
    return names


def _restart_dependents(compose, names: list[str], recreated: set[str], timeout) -> None:
    """`depends_on: {x: {restart: true}}`: a service whose dependency was recreated is
    restarted (stopped now; the start phase starts it again after the dependency)."""
    project = compose.project
    for service in names:
        deps = project.services[service].get("depends_on") or {}
        if service in recreated or not any(d in recreated and spec.get("restart") for d, spec in deps.items()):
            continue
        for record in state.containers(compose.engine, project.name, services=[service]):
            if state.running(record):
                compose.event(f"Container {state.name_of(record)}", "Restarting")
                compose.engine.containers.stop(record["Id"], timeout)


def _converge_service(compose, service: str, opts: UpOptions, force: bool = False) -> bool:
    """Make the service's containers match; whether any was recreated."""
    project, engine = compose.project, compose.engine
    recreated = False
    want = opts.scale.get(service, project.replicas(service))
    existing = state.containers(engine, project.name, services=[service])
    image_id = compose.image_id(service)
    wanted_hash = config_hash(project.services[service])
    for record in existing:
        name, number = state.name_of(record), state.number_of(record)
        if number > want:
            compose.event(f"Container {name}", "Stopping")
            engine.containers.stop(record["Id"], opts.timeout)
            compose.event(f"Container {name}", "Stopped")
            compose.event(f"Container {name}", "Removing")
            engine.containers.remove(record["Id"], force=True)
            compose.event(f"Container {name}", "Removed")
            continue
        labels = state.labels_of(record)
        changed = labels.get(P + "config-hash") != wanted_hash or (
            labels.get(P + "image") and labels.get(P + "image") != image_id)
        if opts.force_recreate or force or (changed and not opts.no_recreate):
            compose.event(f"Container {name}", "Recreate")
            engine.containers.stop(record["Id"], opts.timeout)
            kept = _anonymous_volumes(compose, service, record)
            engine.containers.remove(record["Id"], force=True)
            _create_one(compose, service, number, image_id, kept)
            compose.event(f"Container {name}", "Recreated")
            recreated = True
        elif state.running(record):
            compose.event(f"Container {name}", "Running")
    taken = {state.number_of(r) for r in existing}
    for number in range(1, want + 1):
        if number not in taken:
            name = project.container_name(service, number)
            compose.event(f"Container {name}", "Creating")
            _create_one(compose, service, number, image_id)
            compose.event(f"Container {name}", "Created")
    return recreated


def _anonymous_volumes(compose, service: str, record: dict) -> list:
    """The old container's anonymous volumes, for its replacement (compose keeps their data
    across a recreate), at the targets the service does not mount anything else on."""
    from ..services.container_types import MountRequest
    from ..services.volumes import ANONYMOUS_LABEL
    taken = {v["target"] for v in compose.project.services[service].get("volumes") or []
             if v.get("source") or v.get("type", "volume") != "volume"}
    out = []
    for m in record.get("Mounts") or []:
        if m.get("Type") != "volume" or not m.get("Name") or m["Destination"] in taken:
            continue
        try:
            anonymous = ANONYMOUS_LABEL in (compose.engine.volumes.get(m["Name"]).labels or {})
        except NotFound:
            continue
        if anonymous:
            out.append(MountRequest("volume", m["Name"], m["Destination"], not m.get("RW", True),
                                    {"flag": "-v", "mode": "z", "labels": {}, "driver_opts": {}, "driver": ""}))
    return out


def _create_one(compose, service: str, number: int, image_id: str, kept: list = ()) -> str:
    project, engine = compose.project, compose.engine
    req = plan.create_request(project, service, number, container_of=compose.first_container,
                              overrides={"mounts": list(kept)} if kept else None)
    req.labels[P + "image"] = image_id
    return create_container(compose, service, req)


def create_container(compose, service: str, req) -> str:
    """The container `req` describes, joined to the service's other networks and given its
    secrets and configs that are not files (written in before it starts, as compose does)."""
    files = plan.injected_files(compose.project, compose.project.services[service])
    cid = compose.engine.containers.create(req)
    try:
        for net_name, endpoint in plan.networks(compose.project, service)[1:]:
            compose.networks.connect(net_name, cid, endpoint["aliases"], endpoint["ip"])
        if files:  # through cp's applier: a target leading out of the container is refused
            compose.engine.container_fs.extract_into(cid, _tar(files), "/", archive=True)  # uid/gid kept
    except BaseException:
        compose.engine.containers.remove(cid, force=True, volumes=True)  # not left half made
        raise
    return cid


def _tar(files: list) -> "io.BytesIO":
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data, mode, uid, gid in files:
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.uid, info.gid, info.mtime = len(data), mode, uid, gid, time.time()
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def start(compose, names: list[str], timeout: float | None = None) -> None:
    """Start the services' stopped containers, level by level, each service once its
    dependencies meet their conditions; the containers of one level start together."""
    project, engine = compose.project, compose.engine
    for level in project.levels(names):
        for service in level:
            wait_dependencies(compose, service, timeout, among=set(names))
        todo = [r for s in level for r in state.containers(engine, project.name, services=[s])
                if not state.running(r)]
        for record in todo:
            compose.event(f"Container {state.name_of(record)}", "Starting")
        failed = _start_together(engine, [r["Id"] for r in todo])
        for record in todo:
            name = state.name_of(record)
            compose.event(f"Container {name}", "Error" if record["Id"] in failed else "Started")
        if failed:
            exc = next(iter(failed.values()))
            raise PalletError(f"Error response from daemon: {exc}")


def _start_together(engine, ids: list[str]) -> dict:
    """Start containers on threads, each with an Engine of its own (the store's SQLite
    connection belongs to one thread); {id: error} of those that failed."""
    failed: dict = {}
    if len(ids) == 1:
        try:
            engine.containers.start(ids[0])
        except PalletError as exc:
            failed[ids[0]] = exc
        return failed
    import threading

    def work(cid: str) -> None:
        try:
            type(engine)(engine.paths).containers.start(cid)  # an engine of its own
        except PalletError as exc:
            failed[cid] = exc
    threads = [threading.Thread(target=work, args=(cid,)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failed


def wait_dependencies(compose, service: str, timeout: float | None = None, among: set | None = None) -> None:
    """Block until the service's dependencies (those `among` the services being started, when
    given: `up --no-deps` ignores the others, as compose drops them) meet their conditions."""
    project = compose.project
    for dep, spec in sorted((project.services[service].get("depends_on") or {}).items()):
        if dep not in project.services or (among is not None and dep not in among):
            continue
        condition = spec.get("condition", "service_started")
        if condition == "service_started":
            continue
        records = state.containers(compose.engine, project.name, services=[dep])
        for record in records:
            _wait_condition(compose, dep, record, condition, timeout)


def _wait_condition(compose, dep: str, record: dict, condition: str, timeout: float | None) -> None:
    engine = compose.engine
    name = state.name_of(record)
    deadline = None if timeout is None else time.monotonic() + timeout
    compose.event(f"Container {name}", "Waiting")
    while True:
        try:
            rec = engine.containers.get(record["Id"])
        except NotFound:
            raise DependencyFailed(f"dependency failed to start: container {name} was removed") from None
        st = rec["State"]
        if condition == "service_healthy":
            if not (rec["Config"].get("Healthcheck") or {}).get("Test") or \
                    rec["Config"]["Healthcheck"]["Test"][0] == "NONE":
                raise DependencyFailed(f"container {name} has no healthcheck configured")
            health = (st.get("Health") or {}).get("Status")
            if health == "healthy":
                compose.event(f"Container {name}", "Healthy")
                return
            if health == "unhealthy":
                compose.event(f"Container {name}", "Error")
                raise DependencyFailed(f"dependency failed to start: container {name} is unhealthy")
            if not st["Running"]:
                raise DependencyFailed(f"dependency failed to start: container {name} exited "
                                       f"({st['ExitCode']})")
        else:  # service_completed_successfully
            if not st["Running"] and st.get("StartedAt", "").startswith("0001"):
                raise DependencyFailed(f"dependency failed to start: container {name} has not started")
            if not st["Running"]:
                if st["ExitCode"] == 0:
                    compose.event(f"Container {name}", "Exited")
                    return
                compose.event(f"Container {name}", "Error")
                raise DependencyFailed(f'service "{dep}" didn\'t complete successfully: exit {st["ExitCode"]}')
        if deadline is not None and time.monotonic() > deadline:
            raise DependencyFailed(f"timeout waiting for container {name}")
        time.sleep(POLL)


def wait_running(compose, names: list[str], timeout: float | None) -> None:
    """`up --wait`: every container running, and healthy where it has a health check."""
    engine = compose.engine
    deadline = None if timeout is None else time.monotonic() + timeout
    for record in state.containers(engine, compose.project.name, services=names):
        name = state.name_of(record)
        compose.event(f"Container {name}", "Waiting")
        while True:
            rec = engine.containers.get(record["Id"])
            health = (rec["State"].get("Health") or {}).get("Status")
            if not rec["State"]["Running"]:
                raise Conflict(f"container {name} exited ({rec['State']['ExitCode']})")
            if health in (None, "", "healthy"):
                compose.event(f"Container {name}", "Healthy")
                break
            if health == "unhealthy":
                raise DependencyFailed(f"container {name} is unhealthy")
            if deadline is not None and time.monotonic() > deadline:
                raise DependencyFailed(f"timeout waiting for container {name} to be healthy")
            time.sleep(POLL)
