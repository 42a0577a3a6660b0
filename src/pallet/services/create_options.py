"""What `run`/`create` options mean once they are decoded: the daemon-side checks and
conversions that the CLI's flags and the API's create body share.

docker/cli turns flags into Config/HostConfig and dockerd validates them; pallet's
CLI decodes flags (pallet.cli.run_flags) and the API decodes the JSON body
(pallet.api.create_body), and both hand their values to these functions so that a
restart policy, a log driver, a tmpfs or a mount means the same thing, with the
same error, whichever edge it came through. Pure: no I/O but `which(runtime)`.
"""
from __future__ import annotations

from ..errors import InvalidArgument

# Docker's built-in logging drivers (and podman's k8s-file, which pallet writes)
LOG_DRIVERS = ("json-file", "local", "k8s-file", "none", "journald", "syslog", "gelf", "fluentd",
               "awslogs", "splunk", "etwlogs", "gcplogs", "logentries")
RESTART_NAMES = ("no", "always", "unless-stopped", "on-failure")


def restart_policy(text: str) -> str:
    """`no`, `always`, `unless-stopped`, `on-failure[:N]`, refused in dockerd's words."""
    name, _, count = text.partition(":")
    if name not in RESTART_NAMES:
        raise InvalidArgument(f"invalid restart policy format: {text}")
    if count and (name != "on-failure" or not count.isdigit()):
        raise InvalidArgument(f"invalid restart policy format: maximum retry count must be used "
                              f"with restart policy \"on-failure\": {text}" if name != "on-failure"
                              else f"invalid restart policy format: {text}")
    return text


def log_driver(name: str | None) -> None:
    """pallet logs to its own file whatever the name; an unknown driver is refused as Docker does."""
    if name and name not in LOG_DRIVERS:
        raise InvalidArgument(f'error looking up logging plugin {name}: plugin "{name}" not found')


def log_options(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        k, eq, v = item.partition("=")
        if not eq:
            raise InvalidArgument(f"invalid log opt: {item}")
        out[k] = v
    return out


def tmpfs_mounts(items: dict[str, str]) -> dict[str, str]:
    """target -> options, each target absolute and its options valid now rather than at start."""
    for target, opts in items.items():
        if not target.startswith("/"):
            raise InvalidArgument(f"invalid mount path: '{target}' mount path must be absolute")
        if opts:
            from ..opts.mounts import merge_tmpfs_options
            merge_tmpfs_options(opts)
    return items


def runtime(name: str) -> str:
    from ..runtime.runc import which
    if not which(name):
        raise InvalidArgument(f"unknown or invalid runtime name: {name}")
    return name


def mount_request(m, flag: str):
    """A parsed -v/--mount (opts.mounts.MountSpec) as the service's MountRequest."""
    from .container_types import MountRequest
    opts = {"flag": flag}
    if m.propagation:
        opts["propagation"] = m.propagation
    if getattr(m, "no_copy", False):
        opts["nocopy"] = True
    if m.type == "volume":  # volume labels/driver opts, -v mode
        opts.update({"labels": m.volume_labels, "driver_opts": m.volume_options,
                     "driver": m.volume_driver, "mode": m.mode or "z"})
    elif m.type == "tmpfs":
        opts.update({"size": m.tmpfs_size, "mode": m.tmpfs_mode})
    return MountRequest(m.type, m.source or "", m.target, m.read_only, opts)
