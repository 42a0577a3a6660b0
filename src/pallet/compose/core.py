"""The few core entry points compose calls that are not (yet) methods of the Engine.

One place to change as the services move: issue 15 (in progress on another branch) gives
the Engine `.networks`/`.volumes`, typed network requests, `containers.top`, and moves the
container service's modules into a package. Each function here takes the newer home when
it is there and the current one otherwise, so compose works on either side of that merge;
once it has landed, each body shrinks to its first branch.
"""
from __future__ import annotations


def networks(engine):
    if hasattr(type(engine), "networks"):
        return engine.networks
    from ..services.container_network import service
    return service(engine)


def create_network(engine, name: str, driver: str, subnet: str | None, gateway: str | None,
                   internal: bool, labels: dict) -> str:
    try:
        from ..services.network_types import NetworkCreateRequest
    except ImportError:
        return networks(engine).create(name, driver, subnet, gateway, internal=internal, labels=labels)
    return networks(engine).create(NetworkCreateRequest(
        name, driver, [subnet] if subnet else [], [gateway] if gateway else [], internal, labels))


def volumes(engine):
    if hasattr(type(engine), "volumes"):
        return engine.volumes
    from ..services.volumes import volumes_of
    return volumes_of(engine)


def docker_status(record: dict) -> str:
    """`ps`'s STATE: created, running, paused, restarting, exited, dead."""
    try:
        from ..services.container_status import docker_status as status
    except ImportError:
        from ..dockerjson.columns import docker_status as status
    return status(record)


def ps_row(engine, record: dict, trunc: bool):
    from ..dockerjson.container import ps_row as row
    if row.__code__.co_varnames[0] == "svc":
        return row(engine.containers, record, trunc)
    return row(record, trunc)


def top(engine, cid: str) -> tuple[list[str], list[list[str]]]:
    if hasattr(engine.containers, "top"):
        return engine.containers.top(cid, [])
    from ..services.container_ops import top as ps_top
    return ps_top(engine.containers, cid, [])


def log_files(log_path: str) -> list:
    try:
        from ..services.log_rotation import log_files as files
    except ImportError:
        from ..services.containers.log_rotation import log_files as files
    return files(log_path)


def container_fs(engine):
    if hasattr(type(engine), "container_fs"):
        return engine.container_fs
    from ..services.container_fs import ContainerFS
    return ContainerFS(engine)


def relay(attached, stdout, stderr, stdin=None) -> None:
    """What `start(attach_to=...)` hands over (a socket today, an Attachment after issue 15),
    relayed through these streams."""
    if hasattr(attached, "relay"):
        attached.relay(stdout, stderr, stdin)
        return
    from ..runtime.attach import relay as relay_socket
    relay_socket(attached, stdout, stderr, stdin)
