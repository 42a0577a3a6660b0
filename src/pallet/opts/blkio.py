"""Docker's block-I/O flag values: `--device-read-bps /dev/sda:1mb`, `--device-write-iops
/dev/sda:100` -> HostConfig's ThrottleDevice `{"Path": ..., "Rate": ...}`. Pure."""
from __future__ import annotations

from ..errors import InvalidArgument, UsageError


def parse_throttle(value: str, flag: str, iops: bool) -> dict:
    """docker/cli's ValidateThrottleBpsDevice / ValidateThrottleIOpsDevice, as flag errors."""
    path, colon, rate = value.rpartition(":")
    if not colon or not path:
        raise UsageError(f'invalid argument "{value}" for "--{flag}" flag: bad format: {value}')
    if not path.startswith("/dev/"):
        raise UsageError(f'invalid argument "{value}" for "--{flag}" flag: bad format for device '
                         f"path: {value}")
    if iops:
        if not rate.isdigit():
            raise UsageError(f'invalid argument "{value}" for "--{flag}" flag: invalid rate for device: '
                             f"{value}. The correct format is <device-path>:<number>. Number must "
                             "be a positive integer")
        return {"Path": path, "Rate": int(rate)}
    from .units import parse_bytes
    try:
        number = parse_bytes(rate)
    except InvalidArgument:
        number = -1
    if number < 0:
        raise UsageError(f'invalid argument "{value}" for "--{flag}" flag: invalid rate for device: '
                         f"{value}. The correct format is <device-path>:<number>[<unit>]. Number "
                         "must be a positive integer. Unit is optional and can be kb, mb, or gb")
    return {"Path": path, "Rate": number}
