"""The daemon-side checks of a create request's options (restart policy, tmpfs; the log
driver is config.log_driver's), run by ContainerService.create whichever edge decoded the request.

docker/cli turns flags into Config/HostConfig and dockerd validates them; pallet's
CLI decodes flags (pallet.cli.run_flags) and the API decodes the JSON body
(pallet.api.create_body) into the same CreateRequest, and the service checks it
here, once, in dockerd's words. Pure: no I/O.
"""
from __future__ import annotations

from ...errors import InvalidArgument


def tmpfs_mounts(items: dict[str, str]) -> dict[str, str]:
    """target -> options, each target absolute and its options valid now rather than at start."""
    for target, opts in items.items():
        if not target.startswith("/"):
            raise InvalidArgument(f"invalid mount path: '{target}' mount path must be absolute")
        if opts:
            from ...opts.mounts import merge_tmpfs_options
            merge_tmpfs_options(opts)
    return items


def check(req) -> None:
    """What dockerd refuses in a create request before anything is made. Reads only
    `restart` and `tmpfs` (ContainerService.create skips it when both are defaults)."""
    from .restart import parse_policy
    parse_policy(req.restart)
    tmpfs_mounts(req.tmpfs)
