"""Docker's default seccomp profile, written as data, and its rendering to OCI form.

Owns: the allowlist of system calls a default container may make, the calls that a
capability unlocks (``cap_add SYS_ADMIN`` lets ``mount`` through, as in Docker), and two
renderings of the same policy:

* `default_profile(caps, arch)`: Docker's own form, an allowlist (default action
  ``SCMP_ACT_ERRNO`` with EPERM; runc answers ENOSYS above the newest call it lists).
* `inverted_profile(caps, tables)` + `guard_program(tables)`: the same effect, call for
  call, for a host whose libseccomp syscall tables are known (`tables`: arch -> name ->
  number). runc gets the complement, a short denylist (default ``SCMP_ACT_ALLOW``), which
  it compiles ~12 ms faster than ~370 allow rules for two ABIs; what a denylist by name
  cannot say, a small classic-BPF guard says by number: ENOSYS above the newest listed
  call, EPERM for numbers libseccomp has no name for, and personality(2) limited to
  Docker's five values. The guard is installed (see `syscall_guard`) in the thread that
  starts conmon or ``runc exec``, so runc and the container inherit it; the kernel applies
  both filters and the stricter answer wins.

Invariants: names unknown to the host's libseccomp are skipped by runc, so the lists may
name calls of newer kernels. Pure: no I/O. Imports only the stdlib.
"""
from __future__ import annotations

import os

# Calls every default container may make (Docker's profile, allow action, no conditions).
ALLOWED = """
accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown
chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime
clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect
copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir
fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr
flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64
fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv
futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid
geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp
getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32
getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid
gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1
inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter
io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset
landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr
_llseek lremovexattr lseek lsetxattr lstat lstat64 madvise map_shadow_stack membarrier
memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap
mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64
mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync
munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat
openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect
poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6
pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv
recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat
renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask
rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64
rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
sched_get_priority_min sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32
setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid
setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
sigprocmask sigreturn socket socketcall socketpair splice stat stat64 statfs statfs64
statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat
utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
ptrace process_vm_readv process_vm_writev
""".split()

# Calls needed by the architecture's own ABI.
ARCH_ALLOWED = {
    "x86_64": ["arch_prctl", "modify_ldt"],
    "aarch64": ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2"],
}

# Calls a capability unlocks, as Docker's profile "includes": {"caps": [...]}.
BY_CAPABILITY = {
    "CAP_SYS_ADMIN": """bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick
        lookup_dcookie mount mount_setattr move_mount open_tree perf_event_open quotactl
        quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare""".split(),
    "CAP_SYS_BOOT": ["reboot"],
    "CAP_SYS_CHROOT": ["chroot"],
    "CAP_SYS_MODULE": ["delete_module", "init_module", "finit_module"],
    "CAP_SYS_PACCT": ["acct"],
    "CAP_SYS_PTRACE": ["kcmp", "pidfd_getfd", "process_madvise"],
    "CAP_SYS_RAWIO": ["iopl", "ioperm"],
    "CAP_SYS_TIME": ["settimeofday", "stime", "clock_settime", "clock_settime64"],
    "CAP_SYS_TTY_CONFIG": ["vhangup"],
    "CAP_SYS_NICE": ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"],
    "CAP_SYSLOG": ["syslog"],
    "CAP_BPF": ["bpf"],
    "CAP_PERFMON": ["perf_event_open"],
}

SECCOMP_ARCHES = {
    "x86_64": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "aarch64": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
}

# personality(2) values Docker lets through: PER_LINUX, PER_LINUX32, UNAME26 variants, query.
PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF]
# clone(2) namespace flags (CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP):
# without CAP_SYS_ADMIN a clone carrying any of them is refused.
CLONE_NS_FLAGS = 0x7E020000
ENOSYS = 38


def _allow(names: list[str], **extra) -> dict:
    return {"names": names, "action": "SCMP_ACT_ALLOW", **extra}


def default_profile(capabilities: list[str], arch: str | None = None,
                    x32: bool = True) -> dict:
    """The ``linux.seccomp`` object for a container holding ``capabilities``.

    `x32`: whether to list the x32 ABI; pass False when the kernel cannot run it (no
    CONFIG_X86_X32_ABI, Debian's default): its calls then fail the same way, and runc's
    filter, compiled for every architecture listed, is built ~9 ms faster."""
    arch = arch or os.uname().machine
    caps = set(capabilities)
    syscalls = [_allow(ALLOWED + ARCH_ALLOWED.get(arch, []))]
    for value in PERSONALITIES:
        syscalls.append(_allow(["personality"], args=[
            {"index": 0, "value": value, "op": "SCMP_CMP_EQ"}]))
    unlocked = sorted({n for cap, names in BY_CAPABILITY.items() if cap in caps for n in names})
    if unlocked:
        syscalls.append(_allow(unlocked))
    if "CAP_SYS_ADMIN" not in caps:
        syscalls.append(_allow(["clone"], args=[
            {"index": 0, "value": CLONE_NS_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]))
        # glibc falls back to clone(2) when clone3 says ENOSYS; EPERM would be fatal.
        syscalls.append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS})
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": [a for a in SECCOMP_ARCHES.get(arch, []) if x32 or a != "SCMP_ARCH_X32"],
        "syscalls": syscalls,
    }


# ---- the inverted rendering (same effect, compiled faster) ----

# seccomp_data.arch values (linux/audit.h) of the ABIs the inverted form covers
AUDIT_ARCH = {"x86_64": 0xC000003E, "x86": 0x40000003}
X32_SYSCALL_BIT = 0x40000000
EPERM = 1
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
SPECIAL = ("personality", "clone", "clone3")  # rules with conditions or another errno


def _always_listed() -> set[str]:
    """Names Docker's rendering lists whatever the capabilities: they fix runc's ENOSYS line."""
    return set(ALLOWED) | set(ARCH_ALLOWED["x86_64"]) | set(SPECIAL)


def tables_fit(tables: dict[str, dict[str, int]]) -> bool:
    """Whether the inverted form can match Docker's exactly with these libseccomp tables:
    per ABI, no call is numbered above the newest one Docker's list always names (those
    runc answers ENOSYS before its filter runs, a denylist would answer EPERM), and no
    capability-unlocked call is either."""
    listed = _always_listed()
    for table in tables.values():
        limit = max((table[n] for n in listed if n in table), default=-1)
        if limit < 0 or max(table.values()) > limit:
            return False
    return True


def inverted_profile(capabilities: list[str], names: list[str]) -> dict:
    """Docker's default profile for ``capabilities`` as a denylist over `names` (every name
    the host's libseccomp knows for x86_64 and x86); only valid together with
    `guard_program` of the same tables and when `tables_fit` them."""
    caps = set(capabilities)
    allowed = set(ALLOWED) | set(ARCH_ALLOWED["x86_64"])
    allowed |= {n for cap, listed in BY_CAPABILITY.items() if cap in caps for n in listed}
    rules = [{"names": [n for n in names if n not in allowed and n not in SPECIAL],
              "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM}]
    if "CAP_SYS_ADMIN" not in caps:
        # Docker allows clone when (flags & CLONE_NS_FLAGS) == 0: refuse each flag alone
        bits = [1 << b for b in range(32) if CLONE_NS_FLAGS >> b & 1]
        rules += [{"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM,
                   "args": [{"index": 0, "value": bit, "valueTwo": bit,
                             "op": "SCMP_CMP_MASKED_EQ"}]} for bit in bits]
        rules.append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS})
    return {"defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "syscalls": rules}


def guard_program(tables: dict[str, dict[str, int]]) -> bytes:
    """The guard filter (struct sock_filter[]) for `tables`: see the module docstring."""
    listed = _always_listed()
    asm = _Assembler()
    asm.load(4)  # seccomp_data.arch
    for arch in tables:
        asm.jump(0x15, AUDIT_ARCH[arch], arch, None)  # jeq
    asm.ret(RET_ALLOW)  # another ABI: runc's filter answers for it
    for arch, table in tables.items():
        limit = max(table[n] for n in listed if n in table)
        asm.label(arch)
        asm.load(0)  # seccomp_data.nr
        if arch == "x86_64":
            asm.jump(0x45, X32_SYSCALL_BIT, "allow", None)  # jset: x32 numbers, runc's filter
        asm.jump(0x25, limit, "enosys", None)  # jgt
        asm.jump(0x15, table["personality"], f"personality-{arch}", None)
        for lo, hi in _gaps(set(table.values()), limit):
            if lo == hi:
                asm.jump(0x15, lo, "eperm", None)
            else:
                after = asm.fresh()
                asm.jump(0x35, lo, None, after)    # jge lo
                asm.jump(0x25, hi, after, "eperm")  # jgt hi
                asm.label(after)
        asm.ret(RET_ALLOW)
        asm.label(f"personality-{arch}")
        if arch == "x86_64":  # a 64-bit argument: the high word must be 0
            asm.load(20)
            asm.jump(0x15, 0, None, "eperm")
        asm.load(16)  # args[0], low word
        for value in PERSONALITIES:
            asm.jump(0x15, value, "allow", None)
        asm.ret(RET_ERRNO | EPERM)
    asm.label("allow")
    asm.ret(RET_ALLOW)
    asm.label("eperm")
    asm.ret(RET_ERRNO | EPERM)
    asm.label("enosys")
    asm.ret(RET_ERRNO | ENOSYS)
    return asm.assemble()


def _gaps(known: set[int], limit: int) -> list[tuple[int, int]]:
    """Runs of numbers in [0, limit] with no name in `known`."""
    runs: list[tuple[int, int]] = []
    for nr in range(limit + 1):
        if nr in known:
            continue
        if runs and runs[-1][1] == nr - 1:
            runs[-1] = (runs[-1][0], nr)
        else:
            runs.append((nr, nr))
    return runs


class _Assembler:
    """Classic BPF with symbolic jump targets (None: the next instruction)."""

    def __init__(self):
        self.code: list[tuple] = []
        self.labels: dict[str, int] = {}

    def fresh(self) -> str:
        return f"_{len(self.code)}_{len(self.labels)}"

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def load(self, offset: int) -> None:
        self.code.append((0x20, None, None, offset))  # ld [offset]

    def jump(self, op: int, k: int, true: str | None, false: str | None) -> None:
        self.code.append((op, true, false, k))

    def ret(self, value: int) -> None:
        self.code.append((0x06, None, None, value))

    def assemble(self) -> bytes:
        out = bytearray()
        for at, (op, true, false, k) in enumerate(self.code):
            offsets = [0 if t is None else self.labels[t] - at - 1 for t in (true, false)]
            if op & 0x07 == 0x05 and not all(0 <= o <= 255 for o in offsets):
                raise ValueError("seccomp guard: jump out of range")
            jt, jf = offsets if op & 0x07 == 0x05 else (0, 0)
            out += op.to_bytes(2, "little") + bytes((jt, jf)) + k.to_bytes(4, "little")
        return bytes(out)


# ---- a profile of the user's (--security-opt seccomp=profile.json) ----

GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7l": "arm"}
NATIVE_SECCOMP_ARCH = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64",
                       "i686": "SCMP_ARCH_X86", "armv7l": "SCMP_ARCH_ARM"}


class ProfileError(ValueError):
    """A seccomp profile Docker would refuse; the message is Docker's."""


def from_docker_profile(profile: dict, bounding: list[str], machine: str | None = None,
                        kernel: tuple[int, int] | None = None) -> dict | None:
    """The ``linux.seccomp`` object for a profile in Docker's format, for a container whose
    bounding set is `bounding`: rules whose ``includes`` the container does not meet, or
    whose ``excludes`` it does, are left out, as Docker's daemon does (an ``archMap``
    contributes the native architecture and its sub-architectures). None when the profile
    has neither a default action nor rules (Docker: no seccomp)."""
    if not isinstance(profile, dict):
        raise ProfileError("the seccomp profile is not a JSON object")
    if not profile.get("defaultAction") and not profile.get("syscalls"):
        return None
    if profile.get("architectures") and profile.get("archMap"):
        raise ProfileError("both 'architectures' and 'archMap' are specified in the seccomp "
                           "profile, use either 'architectures' or 'archMap'")
    machine = machine or os.uname().machine
    arch = GO_ARCH.get(machine, machine)
    out: dict = {"defaultAction": profile.get("defaultAction", "")}
    archs = list(profile.get("architectures") or [])
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == NATIVE_SECCOMP_ARCH.get(machine):
            archs = [entry["architecture"], *(entry.get("subArchitectures") or [])]
            break
    if archs:
        out["architectures"] = archs
    for key in ("defaultErrnoRet", "listenerPath", "listenerMetadata", "flags"):
        if profile.get(key):
            out[key] = profile[key]
    kernel = kernel or _kernel_version()
    out["syscalls"] = [_rule(call) for call in profile.get("syscalls") or []
                       if _applies(call, arch, set(bounding), kernel)]
    return out


def _applies(call: dict, arch: str, caps: set[str], kernel: tuple[int, int]) -> bool:
    inc, exc = call.get("includes") or {}, call.get("excludes") or {}
    if arch in (exc.get("arches") or []) or caps & set(exc.get("caps") or []):
        return False
    if exc.get("minKernel") and kernel >= _version(exc["minKernel"]):
        return False
    if inc.get("arches") and arch not in inc["arches"]:
        return False
    if not set(inc.get("caps") or []) <= caps:
        return False
    return not (inc.get("minKernel") and kernel < _version(inc["minKernel"]))


def _rule(call: dict) -> dict:
    names = list(call.get("names") or [])
    if call.get("name"):
        if names:
            raise ProfileError("'name' and 'names' were specified in the seccomp profile, "
                               "use either 'name' or 'names'")
        names = [call["name"]]
    rule = {"names": names, "action": call.get("action", "")}
    if call.get("args"):
        rule["args"] = [{k: a[k] for k in ("index", "value", "valueTwo", "op") if k in a}
                        for a in call["args"]]
    if call.get("errnoRet") is not None:
        rule["errnoRet"] = call["errnoRet"]
    return rule


def _version(text) -> tuple[int, int]:
    try:
        major, _, rest = str(text).partition(".")
        return int(major), int((rest.split(".")[0] or "0").split("-")[0])
    except ValueError:
        raise ProfileError(f"invalid kernel version: {text}") from None


def _kernel_version() -> tuple[int, int]:
    return _version(os.uname().release)
