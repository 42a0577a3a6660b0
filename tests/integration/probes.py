"""Tiny static x86-64 programs that make one system call and exit with its errno.

A busybox image has no way to call personality(0x40000) or syscall 457, so seccomp tests
write these into a directory bind-mounted into the container. Each program loads the
number and up to three arguments, makes the call through the 64-bit ABI (``syscall``) or
the i386 one (``int 0x80``, which seccomp sees as AUDIT_ARCH_I386), and exits with the
errno (0 when the call succeeded). A filter that kills the thread shows as 128+31.
"""
from __future__ import annotations

import struct
from pathlib import Path

BASE = 0x400000
HEADERS = 64 + 56


def _x86_64(nr: int, args: tuple[int, ...]) -> bytes:
    a = list(args) + [0] * (3 - len(args))
    return (b"\x48\xb8" + struct.pack("<Q", nr) +            # mov rax, nr
            b"\x48\xbf" + struct.pack("<Q", a[0]) +          # mov rdi, a0
            b"\x48\xbe" + struct.pack("<Q", a[1]) +          # mov rsi, a1
            b"\x48\xba" + struct.pack("<Q", a[2]) +          # mov rdx, a2
            b"\x4d\x31\xd2\x4d\x31\xc0\x4d\x31\xc9" +        # xor r10, r8, r9
            b"\x0f\x05" +                                    # syscall
            b"\x31\xff\x48\x85\xc0\x79\x05\x48\xf7\xd8\x89\xc7" +  # edi = rax < 0 ? -rax : 0
            _EXIT)


def _i386(nr: int, args: tuple[int, ...]) -> bytes:
    a = list(args) + [0] * (3 - len(args))
    return (b"\xb8" + struct.pack("<I", nr) +                 # mov eax, nr
            b"\xbb" + struct.pack("<I", a[0]) +               # mov ebx, a0
            b"\xb9" + struct.pack("<I", a[1]) +               # mov ecx, a1
            b"\xba" + struct.pack("<I", a[2]) +               # mov edx, a2
            b"\x31\xf6\x31\xff" +                            # xor esi, edi
            b"\xcd\x80" +                                    # int 0x80
            b"\x31\xff\x85\xc0\x79\x04\xf7\xd8\x89\xc7" +      # edi = eax < 0 ? -eax : 0
            _EXIT)


_EXIT = b"\xb8\x3c\x00\x00\x00\x0f\x05"  # mov eax, 60 (exit); syscall


def program(abi: str, nr: int, *args: int) -> bytes:
    """A complete ELF executable for one call; `abi` is "x86_64" or "i386"."""
    code = (_x86_64 if abi == "x86_64" else _i386)(nr, args)
    size = HEADERS + len(code)
    elf = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, b"\0" * 7,
                      2, 0x3E, 1, BASE + HEADERS, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, size, size, 0x1000)
    return elf + phdr + code


def write(directory: Path, probes: dict[str, tuple]) -> str:
    """Write each probe (name -> (abi, nr, *args)) into `directory`; returns the shell
    loop that runs them all and prints "name errno" lines."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, (abi, nr, *args) in probes.items():
        path = directory / name
        path.write_bytes(program(abi, nr, *args))
        path.chmod(0o755)
    return 'for p in /probe/*; do $p; echo "${p##*/} $?"; done'


def parse(text: str) -> dict[str, int]:
    return {name: int(code) for name, code in (line.split() for line in text.splitlines() if line)}
