"""A build's RUN step as a container: the build service turns the executor's RunSpec
(pallet.build.runstep) into a CreateRequest for the container service, starts it attached
to the step's output, waits for it, and removes it if starting or waiting fails.

Here, not in build/, because the request is the container service's own type: the executor
asks for a container through the build service and imports nothing of services/.
"""
from __future__ import annotations

from typing import BinaryIO

from ..build.runstep import RunSpec, remove_container
from .container_types import CreateRequest, MountRequest


def run_step(containers, spec: RunSpec, output: BinaryIO | None,
             on_created=lambda cid: None) -> tuple[str, int]:
    """Run the command; returns (container id, exit code). The caller removes the container."""
    limits = spec.limits
    tuned = {} if limits is None else dict(
        ulimits=list(limits.ulimits), shm_size=limits.shm_size, security_opt=list(limits.security_opt),
        memory=limits.memory,
        extra={"network": {"extra_hosts": list(limits.extra_hosts)}} if limits.extra_hosts else {})
    req = CreateRequest(image=spec.image_id, entrypoint=[], cmd=spec.argv, env=spec.env,
                        workdir=spec.workdir or None, user=spec.user or None, network=spec.network,
                        mounts=[MountRequest("bind", s, t, ro, {"flag": "--mount"})
                                for s, t, ro in spec.binds],
                        tmpfs={t: "" for t in spec.tmpfs}, labels={"pallet.build": "1"},
                        log_opts={"max-size": "1m"}, **tuned)
    cid = containers.create(req)
    on_created(cid)
    if output is None:
        return cid, _start_and_wait(containers, cid, None)
    sink = _CountingSink(output)
    code = _start_and_wait(containers, cid, lambda attachment: attachment.relay(sink, sink))
    if sink.count == 0:
        _replay_log(containers, cid, output)
    return cid, code


def _start_and_wait(svc, cid: str, attach_to) -> int:
    try:
        svc.start(cid, attach_to=attach_to)
        return svc.wait(cid)
    except BaseException:
        remove_container(svc, cid)
        raise


class _CountingSink:
    def __init__(self, out: BinaryIO):
        self.out, self.count = out, 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


def _replay_log(svc, cid: str, output: BinaryIO) -> None:
    """The attach stream can miss the output of a command that exits at once; conmon's log has it."""
    from ..runtime.logs import read_logs
    for record in read_logs(svc.userdata(cid) / "ctr.log"):
        output.write(record.data)
    output.flush()
