"""The container lifecycle's one seam: what happens to a container's networks, volumes,
health, restart policy and log files when it is created, started, stopped, exits or is
removed, done by plug-ins the Engine registers, so the lifecycle (service.py) knows none
of them and they never call each other.

Events, in lifecycle order (each plug-in in registration order):
- on_create(svc, record, req, image_config): complete and validate the new record
  (nothing exists yet: a refusal leaves nothing behind);
- on_prepare(svc, record, parts): while the bundle is made, the rootfs mounted; a plug-in
  adds what the OCI spec needs to `parts` ("network": a NetworkAttachment, "mounts":
  volume and tmpfs mounts after copy-up);
- on_start(svc, record) -> record: once the process runs; returns the record as stored;
- on_stop(svc, cid): the runtime is being torn down (exit cleanup, restart, rm);
- on_exit(svc, ref): conmon's exit command, after the exit is recorded;
- on_remove(svc, record, volumes): the record is gone (`rm`, `--rm`); `volumes` is rm -v.

Cheap by rule: every `run` builds these, so this module imports nothing of pallet and each
plug-in imports its module inside the hook, only for a container that uses it.
Must not import: anything outside the standard library at module level.
"""
from __future__ import annotations


class ContainerHooks:
    """The plug-ins, called in order for each lifecycle event."""

    def __init__(self, plugins=()):
        self.plugins = list(plugins)

    def on_create(self, svc, record: dict, req, image_config: dict) -> None:
        for p in self.plugins:
            p.on_create(svc, record, req, image_config)

    def on_prepare(self, svc, record: dict) -> dict:
        parts: dict = {}
        for p in self.plugins:
            p.on_prepare(svc, record, parts)
        return parts

    def on_start(self, svc, record: dict) -> dict:
        for p in self.plugins:
            record = p.on_start(svc, record)
        return record

    def on_stop(self, svc, cid: str) -> None:
        for p in self.plugins:
            p.on_stop(svc, cid)

    def on_exit(self, svc, ref: str) -> None:
        for p in self.plugins:
            p.on_exit(svc, ref)

    def on_remove(self, svc, record: dict, volumes: bool) -> None:
        for p in self.plugins:
            p.on_remove(svc, record, volumes)


class Plugin:
    """Every event does nothing unless a plug-in says otherwise."""

    def on_create(self, svc, record, req, image_config) -> None:
        pass

    def on_prepare(self, svc, record, parts) -> None:
        pass

    def on_start(self, svc, record):
        return record

    def on_stop(self, svc, cid) -> None:
        pass

    def on_exit(self, svc, ref) -> None:
        pass

    def on_remove(self, svc, record, volumes) -> None:
        pass


class VolumesPlugin(Plugin):
    """-v NAME, --mount, --volumes-from and the image's VOLUMEs: recorded at create,
    anonymous ones removed with the container (rm -v, --rm). `volumes()` is the
    VolumeService, built only for a container that has a volume."""

    def __init__(self, volumes):
        self.volumes = volumes

    def on_create(self, svc, record, req, image_config):
        if req.mounts or (req.extra or {}).get("volumes_from") \
                or (image_config.get("config") or {}).get("Volumes"):
            from ..volumes import on_create
            on_create(svc, self.volumes, record, req, image_config)

    def on_remove(self, svc, record, volumes):
        if (volumes or record["HostConfig"].get("AutoRemove")) \
                and any(m.get("Type") == "volume" for m in record.get("Mounts") or []):
            from ..volumes import on_remove
            on_remove(self.volumes(), record)


class LimitsPlugin(Plugin):
    """Resource limits, ulimits and the healthcheck's settings, checked and recorded at create."""

    def on_create(self, svc, record, req, image_config):
        from .limits import on_create
        on_create(record, req, image_config)


class NetworkPlugin(Plugin):
    """--network, -p/-P, --dns, --add-host, --link: recorded at create, the sandbox made
    before the process starts and torn down with it. `networks()` is the NetworkService."""

    def __init__(self, networks):
        self.networks = networks

    def on_create(self, svc, record, req, image_config):
        from .network import on_create
        on_create(svc, self.networks, record, req)

    def on_prepare(self, svc, record, parts):
        from .network import attach
        parts["network"] = attach(svc, self.networks, record)

    def on_stop(self, svc, cid):
        from .network import detach
        detach(svc, self.networks, cid)


class VolumeMountsPlugin(Plugin):
    """At start, once the network is attached: volumes activated and copied up (an empty
    volume gets the image's content), and the volume and --mount tmpfs mounts for the spec."""

    def __init__(self, volumes):
        self.volumes = volumes

    def on_prepare(self, svc, record, parts):
        if any(m["Type"] in ("volume", "tmpfs") for m in record["Mounts"]):
            from ..volumes import runtime_mounts
            parts["mounts"] = runtime_mounts(svc, self.volumes, record)


class RestartPlugin(Plugin):
    """--restart: a start ends a pending restart; an exit is followed by the policy."""

    def on_start(self, svc, record):
        if record["State"].get("Restarting"):
            from . import restart
            record = svc.store.update(record["Id"], restart.on_start)
        return record

    def on_exit(self, svc, ref):
        from .restart import after_exit
        after_exit(svc, ref)


class HealthPlugin(Plugin):
    """HEALTHCHECK / --health-*: its loop runs beside the process, and ends with it."""

    def on_start(self, svc, record):
        if record["Config"].get("Healthcheck"):
            from . import health
            record = health.start_loop(svc, record)
        return record

    def on_stop(self, svc, cid):
        from ...paths import HEALTH_PID_FILE
        if (svc.userdata(cid) / HEALTH_PID_FILE).exists():
            from .health import stop_loop
            stop_loop(svc, cid)


class LogRotationPlugin(Plugin):
    """--log-opt max-file > 1: a rotation loop started with the process, ending with conmon."""

    def on_start(self, svc, record):
        # every record has a max-size; only a max-file (> 1) makes a loop worth looking at
        if ((record["HostConfig"].get("LogConfig") or {}).get("Config") or {}).get("max-file"):
            from .log_rotation import start_rotator
            start_rotator(svc, record)
        return record


def standard_hooks(networks, volumes) -> ContainerHooks:
    """Docker's plug-ins, in the order their effects must happen (see the module docstring):
    at create, volumes, then limits, then the network; before the process, the network's
    sandbox, then the volume mounts; once it runs, the restart state, then the health loop,
    then the log rotator; at stop, the network, then the health loop."""
    return ContainerHooks([VolumesPlugin(volumes), LimitsPlugin(), NetworkPlugin(networks),
                           VolumeMountsPlugin(volumes), RestartPlugin(), HealthPlugin(),
                           LogRotationPlugin()])
