"""The OCI runtime layer: config.json, runc, and conmon as the per-container monitor.

Modules (dependencies point down; nothing here imports services, the CLI or the store):
    spec.py     SpecRequest -> config.json dict with Docker's defaults (pure)
    seccomp.py  Docker's default seccomp allowlist as data, and its inverted form plus the
                guard filter that together answer every call alike (pure)
    syscall_guard.py  which hosts take the inverted form (libseccomp's tables, cached),
                and installing the guard under conmon / ``runc exec``
    runc.py     Runc: state/list/start/kill/delete/pause/resume/ps/stats/update/exec;
                the one place runc's stderr becomes pallet errors
    monitor.py  Monitor: conmon runs ``runc create``; pid via the sync pipe; exit
                codes from conmon's exit dir; wait_exit; delete
    attach.py   conmon's attach socket (SEQPACKET, 1-byte stream prefix), resize,
                raw terminal mode for ``run -it``
    logs.py     k8s-file log reading for ``docker logs`` (--tail/--since/--until/-f)

Importing this package imports nothing heavy: each module only needs the stdlib.
"""
