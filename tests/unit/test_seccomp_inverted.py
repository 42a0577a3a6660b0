"""Docker's default seccomp profile and pallet's inverted rendering decide every call alike.

A model of what runc + libseccomp make of each form (runc's ENOSYS line above the newest
listed call, rules by name, argument conditions, the default action), the guard program
run by a classic-BPF interpreter, and the kernel's rule for stacked filters (an errno
beats allow; between two errnos the newer filter, runc's, wins). tests/integration/
test_seccomp.py checks the same thing for real.
"""
from __future__ import annotations

import random

import pytest

from pallet.runtime import seccomp

ALLOW, EPERM, ENOSYS = "allow", 1, 38
ARG_VALUES = [0, 8, 0x20000, 0x20008, 0xFFFFFFFF, 0x40000, 0x400000, 1 << 32, 17,
              0x04000000 | 17, 0x7E020000, 0x10000000 | 17, 0xFFFFFFFFFFFFFFFF]


def _tables(seed: int) -> dict[str, dict[str, int]]:
    """Two ABIs numbering the same names differently, with holes, like libseccomp's."""
    names = sorted(set(seccomp.ALLOWED) | set(seccomp.ARCH_ALLOWED["x86_64"]) | set(seccomp.SPECIAL)
                   | {n for ns in seccomp.BY_CAPABILITY.values() for n in ns}
                   | {"keyctl", "add_key", "request_key", "kexec_load", "swapon", "vm86", "nice"})
    rng = random.Random(seed)
    tables = {}
    for arch in ("x86_64", "x86"):
        order = names[:]
        rng.shuffle(order)
        numbers = sorted(rng.sample(range(len(order) + 60), len(order)))
        tables[arch] = dict(zip(order, numbers))
        newest = max(tables[arch], key=tables[arch].get)
        if newest not in seccomp.ALLOWED:  # tables_fit: the newest call is an allowed one
            swap = next(n for n in order if n in seccomp.ALLOWED)
            tables[arch][newest], tables[arch][swap] = tables[arch][swap], tables[arch][newest]
    return tables


def _by_number(table: dict[str, int], nr: int) -> str | None:
    return next((n for n, v in table.items() if v == nr), None)


def _matches(rule: dict, arg: int, width: int) -> bool:
    value = arg & ((1 << width) - 1)
    for cond in rule.get("args", []):
        if cond["op"] == "SCMP_CMP_EQ" and value != cond["value"]:
            return False
        if cond["op"] == "SCMP_CMP_MASKED_EQ" and value & cond["value"] != cond.get("valueTwo", 0):
            return False
    return True


def _runc(profile: dict, table: dict[str, int], nr: int, arg: int, width: int):
    """What runc's filter for one ABI answers (libseccomp: allow rules, else errno rules)."""
    listed = [table[n] for rule in profile["syscalls"] for n in rule["names"] if n in table]
    if profile["defaultAction"] != "SCMP_ACT_ALLOW" and nr > max(listed):
        return ENOSYS  # runc's -ENOSYS stub
    name = _by_number(table, nr)
    rules = [r for r in profile["syscalls"] if name in r["names"] and _matches(r, arg, width)]
    if any(r["action"] == "SCMP_ACT_ALLOW" for r in rules):
        return ALLOW
    if rules:
        return rules[0].get("errnoRet", EPERM)
    return ALLOW if profile["defaultAction"] == "SCMP_ACT_ALLOW" else profile["defaultErrnoRet"]


def _bpf(program: bytes, nr: int, arch: int, arg: int):
    """A classic-BPF interpreter for what the guard uses: ld [k], jeq/jgt/jge/jset, ret."""
    data = nr.to_bytes(4, "little") + arch.to_bytes(4, "little") + bytes(8) + arg.to_bytes(8, "little")
    insns = [program[i:i + 8] for i in range(0, len(program), 8)]
    pc, acc = 0, 0
    while True:
        op, jt, jf, k = int.from_bytes(insns[pc][:2], "little"), insns[pc][2], insns[pc][3], \
            int.from_bytes(insns[pc][4:], "little")
        if op == 0x20:
            acc = int.from_bytes(data[k:k + 4], "little")
        elif op == 0x06:
            return ALLOW if k == seccomp.RET_ALLOW else k & 0xFFFF
        else:
            taken = {0x15: acc == k, 0x25: acc > k, 0x35: acc >= k, 0x45: bool(acc & k)}[op]
            pc += jt if taken else jf
        pc += 1


def _stacked(guard, runc):
    if runc != ALLOW:
        return runc  # the newer filter's errno
    return guard


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("caps", [[], ["CAP_SYS_ADMIN"], ["CAP_SYS_NICE", "CAP_SYSLOG"]])
def test_every_call_gets_the_same_answer(seed, caps):
    tables = _tables(seed)
    assert seccomp.tables_fit(tables)
    docker = seccomp.default_profile(caps, "x86_64", x32=False)
    names = sorted(set().union(*tables.values()))
    inverted = seccomp.inverted_profile(caps, names)
    guard = seccomp.guard_program(tables)
    for arch, width in (("x86_64", 64), ("x86", 32)):
        table = tables[arch]
        for nr in range(max(table.values()) + 80):
            for arg in ARG_VALUES if _by_number(table, nr) in ("personality", "clone") else [0]:
                want = _runc(docker, table, nr, arg, width)
                got = _stacked(_bpf(guard, nr, seccomp.AUDIT_ARCH[arch], arg),
                               _runc(inverted, table, nr, arg, width))
                assert got == want, (arch, nr, _by_number(table, nr), hex(arg))


def test_a_table_newer_than_dockers_list_is_not_inverted():
    tables = _tables(1)
    tables["x86_64"]["statmount"] = max(tables["x86_64"].values()) + 1
    assert not seccomp.tables_fit(tables)


def test_the_inverted_profile_is_short():
    names = sorted(set().union(*_tables(1).values()))
    rules = seccomp.inverted_profile([], names)["syscalls"]
    assert rules[0]["action"] == "SCMP_ACT_ERRNO" and "keyctl" in rules[0]["names"]
    assert len(rules[0]["names"]) < 60 and "read" not in rules[0]["names"]
