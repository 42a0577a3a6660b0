"""Bounded container logs: `--log-opt max-size=S max-file=N`, without a daemon.

conmon caps the live log at max-size by itself (`--log-size-max`: past it, it
renames a fresh file over the log), which is all `max-file=1` (pallet's
default, with max-size 10m) needs. For N > 1 a tiny shell loop per container
(about 1 MB, started detached, ending with conmon) keeps ctr.log.1 a hard link
of the live log: when conmon replaces the log, the old one lives on as
ctr.log.1, and the loop shifts .1.. up and links the new live log. So at most
N files of at most max-size are kept. (Asking conmon to reopen through its
control fifo instead loses the lines in conmon's write buffer: 2.1.6 drops
them.) Readers skip ctr.log.1 while it is the live log itself.
"""
from __future__ import annotations

from pathlib import Path

from ...errors import InvalidArgument

DEFAULT_MAX_SIZE = "10m"


def log_files(log_path: str | Path, max_file: int = 50) -> list[Path]:
    """The container's log files, oldest first: ctr.log.N ... ctr.log.1, ctr.log."""
    live = Path(log_path)
    try:
        live_inode = live.stat().st_ino
    except OSError:
        live_inode = None
    rotated = []
    for i in range(max_file, 0, -1):
        p = live.with_name(f"{live.name}.{i}")
        try:
            if p.stat().st_ino != live_inode:  # .1 is a link of the live log until it rotates
                rotated.append(p)
        except OSError:
            continue
    return rotated + [live]


def limits(log_opts: dict) -> tuple[int, int]:
    from ...opts.units import parse_bytes
    size = parse_bytes(log_opts.get("max-size") or DEFAULT_MAX_SIZE)
    try:
        files = int(log_opts.get("max-file") or 1)
    except ValueError:
        raise InvalidArgument(f"invalid value for max-file: {log_opts.get('max-file')}") from None
    if files < 1:
        raise InvalidArgument("max-file cannot be less than 1")
    return size, files


def _script(log: Path, conmon_pid: int, files: int) -> str:
    shift = " ".join(f'[ -e "$L.{i}" ] && mv -f "$L.{i}" "$L.{i + 1}";' for i in range(files - 1, 0, -1))
    return (f'L="{log}"; ln -f "$L" "$L.1"; while kill -0 {conmon_pid} 2>/dev/null; do sleep 0.2; '
            f'[ "$L" -ef "$L.1" ] && continue; [ -e "$L" ] || continue; {shift} ln -f "$L" "$L.1"; done')


def start_rotator(svc, record: dict) -> None:
    """Start the rotation loop for a container that keeps more than one log file."""
    size, files = limits((record["HostConfig"].get("LogConfig") or {}).get("Config") or {})
    if files <= 1:
        return
    cid = record["Id"]
    conmon_pid = svc.monitor.conmon_pid(svc.userdata(cid))
    if not conmon_pid:
        return
    script = _script(Path(record["LogPath"]), conmon_pid, files)
    # the outer sh exits at once: the loop belongs to init, and ends when conmon does
    import subprocess  # lazily: `run` imports this module, rarely this path
    subprocess.run(["sh", "-c", 'setsid sh -c "$0" </dev/null >/dev/null 2>&1 &', script],
                   timeout=10, check=False)
