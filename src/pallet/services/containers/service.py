"""Docker's container use cases: create, start, stop, kill, rm, wait, restart, rename.

A container is a record (pallet.store.containers), a writable overlay
layer over its image's shared layers (pallet.snapshot.overlay), and, while it
runs, a conmon monitor that owns its stdio, log and exit code
(pallet.runtime.monitor). There is no daemon: each pallet process reads the
truth from the record plus what conmon leaves (exit file, pid files), and the
exit command conmon runs (`pallet container cleanup ID`) finishes the job
after the CLI is gone (unmount, runc delete, --rm).

States and transitions (Docker's): created -> running -> exited -> running ...;
running <-> paused; any -> removed. Status strings for `ps` live in
pallet.services.containers.state.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ... import crash_point, jsontext
from ...errors import Conflict, ContainerCommandError, InvalidArgument, NotFound, PalletError
from ...oci.image import now_rfc3339, rfc3339_ts
from . import state as status
from .queries import ContainerQueries
from .config import check_mounts, container_name
from ..container_types import CreateRequest, ExecRequest, LogsRequest, UpdateRequest
from .names import random_name

class ContainerService(ContainerQueries):
    """`images()` is the ImageService and `leftovers()` sweeps the store's leftovers (both
    resolved on first use: the image service asks this one which containers use an image);
    `hooks` are the plug-ins of the lifecycle (pallet.services.containers.hooks)."""

    def __init__(self, paths, db, store, images, hooks, sweep_leftovers, events):
        self.events = events  # the EventService, built on first use
        self.paths = paths
        self.db = db
        self.store = store
        self._images = images
        self.hooks = hooks
        self.sweep_leftovers = sweep_leftovers

    @property
    def images(self):
        return self._images()

    # ---- plumbing ----
    @property
    def monitor(self):
        return self.monitor_for("runc")

    def monitor_of(self, cid: str):
        """The monitor for a container's own runtime (HostConfig.Runtime, fixed at create:
        remembered, since a start or a cleanup asks several times)."""
        runtimes = self.__dict__.setdefault("_runtimes", {})
        if cid not in runtimes:
            try:
                runtimes[cid] = self.store.get(cid)["HostConfig"].get("Runtime") or "runc"
            except NotFound:
                return self.monitor_for("runc")  # not remembered: it may yet be created
        return self.monitor_for(runtimes[cid])

    def monitor_for(self, runtime: str):
        """The monitor driving containers of one OCI runtime (--runtime); runc by default."""
        from ...runtime.monitor import Monitor
        from ...runtime.runc import Runc
        cache = self.__dict__.setdefault("_monitors", {})
        if runtime not in cache:
            run = self.paths.runroot
            root = self.paths.runc_root if runtime == "runc" else run / runtime
            cache[runtime] = Monitor(Runc(root, binary=runtime), run / "exits")
        return cache[runtime]

    def userdata(self, cid: str) -> Path:
        return self.paths.container(cid) / "userdata"

    def rootfs(self, cid: str) -> Path:
        return self.paths.container_run(cid) / "rootfs"

    def _locked(self, cid: str, missing_ok: bool = False):
        """`with self._locked(cid):` holds the container's lock, a file in its storage
        directory. It never makes that directory: a removed container's directory made
        again would hold only the lock, for nobody to remove. A container without its
        directory is gone (NotFound), or, with `missing_ok` (rm), half removed by a crash:
        nothing is left to lock."""
        from ...store.locks import unlocked
        d = self.paths.container(cid)
        if missing_ok and not d.is_dir():
            return unlocked()
        return _ContainerLock(d / "lock", cid)

    def lock(self, cid: str):
        """`with containers.lock(cid):` the container's lock, for another service changing
        what belongs to the container (network connect/disconnect) against start/stop/rm."""
        return self._locked(cid)

    def resolve(self, ref: str) -> str:
        return self.store.resolve(ref)

    def get(self, ref: str) -> dict:
        """The record with its live state (exit noticed, monitor gone) folded in."""
        return status.refresh(self, self.store.get(self.resolve(ref)))

    # ---- create ----
    def create_warnings(self, req: CreateRequest) -> list[str]:
        """The warnings Docker's daemon gives for this request on this host (its create
        response's Warnings): settings the host cannot apply are discarded, never silently."""
        if not req.settings:
            return []
        from .settings import create_warnings
        return create_warnings(req.settings, req.memory)

    def create(self, req: CreateRequest) -> str:
        from .config import build_record
        image_id = self.images.resolve(req.image)
        image_config = self.images.config(image_id)
        cid = os.urandom(32).hex()
        name = container_name(req.name) if req.name else random_name(lambda n: self._name_taken(n))
        check_mounts(req)
        _check_runtime(req.runtime)
        if req.restart not in ("", "no") or req.tmpfs:  # what check() reads; defaults are valid
            from .create_options import check
            check(req)  # restart policy, tmpfs options
        if req.log_opts:  # a bad max-size/max-file fails before anything is made
            from .log_rotation import limits
            try:
                limits(req.log_opts)
            except InvalidArgument as exc:
                raise InvalidArgument(f"failed to initialize logging driver: {exc}") from None
        record = build_record(cid, name, image_id, req, image_config, self)
        self.hooks.on_create(self, record, req, image_config)  # volumes, limits, network
        # its lock is held from the moment its directory exists until the record does: a
        # sweep of directories without a record (prunes, system check) leaves it alone
        os.mkdir(self.paths.container(cid), 0o700)
        with self._locked(cid):
            try:
                self._prepare_storage(cid, image_id)
                self.store.insert(record)
            except BaseException:
                self._remove_storage(cid)
                raise
        self.events().container("create", record)
        return cid

    def _name_taken(self, name: str) -> bool:
        return self.store.named(name) is not None  # a name, not an ID that starts with it

    def _prepare_storage(self, cid: str, image_id: str) -> None:
        from ...snapshot import overlay
        overlay.prepare(self.paths.container(cid), self.images.layer_dirs(image_id),
                        self.paths.layers)
        self.userdata(cid).mkdir(parents=True, exist_ok=True)

    # ---- start ----
    def start(self, ref: str, attach_to=None) -> dict:
        """Start a created or exited container. `attach_to(attachment)` is called once the
        process runs, with a `runtime.attach.Attachment` connected before it started, and
        returns when the caller is done with the container's output.

        The container's lock is held while it starts, not while `attach_to` relays: a `stop`,
        `restart` or `pause` from another process must not wait for an attached `run`."""
        cid = self.resolve(ref)
        sock = None
        with self._locked(cid):
            record = status.refresh(self, self.store.get(cid))
            running = record["State"]["Running"]
            if running and record["State"]["Paused"]:
                raise Conflict(f"cannot start a paused container, try unpause instead")
            if not running:
                if record["State"]["StartedAt"] != status.ZERO_TIME or record["State"]["ExitCode"]:
                    self._cleanup_runtime(cid)  # what an earlier run left; a fresh one has nothing
                record, sock = self._start_locked(cid, record, attach=attach_to is not None)
        if running:  # dockerd answers 304 and `start -a` goes on attached, as `attach` does
            if attach_to is not None:
                with self.attach(cid) as attachment:
                    attach_to(attachment)
        elif sock is not None:
            from ...runtime.attach import Attachment
            with Attachment(sock, self.userdata(cid), open_stdin=record["Config"]["OpenStdin"],
                            tty=record["Config"]["Tty"]) as attachment:
                attach_to(attachment)
        return record

    def _start_locked(self, cid: str, record: dict, attach: bool = False):
        """Start the container (its lock held); returns the record and, if `attach`, the
        attach socket connected before the process ran (the caller closes it)."""
        from .config import bundle_spec, seccomp_host
        from ...runtime.monitor import attach_path
        from ...snapshot import overlay
        tables = seccomp_host(self, record)

        def prepare_bundle():  # while conmon starts up
            mount = overlay.describe(self.paths.container(cid),
                                     self.images.layer_dirs(record["Image"]), self.paths.layers,
                                     volatile=bool(record["HostConfig"].get("AutoRemove")))
            overlay.mount(mount, self.rootfs(cid))
            parts = self.hooks.on_prepare(self, record)  # the network's sandbox, volume mounts
            bundle_spec(self, record, parts.get("network"), tables, parts.get("mounts", []))
        sock = fifo_fd = None

        def while_creating():  # on the CPU runc leaves idle
            nonlocal sock, fifo_fd
            _warm_up_exit_path()
            if attach:
                sock = _connect_early(attach_path(self.userdata(cid)))
            if not attach or sock is not None:
                # the process may now start before conmon says it was created: an attach
                # connection made before conmon's loop runs is accepted before any output
                # is read (conmon's sources are served in the order they were added)
                fifo_fd = self.monitor_of(cid).runc.open_exec_fifo(cid)
        try:
            pid = self.monitor_of(cid).create(cid, self.userdata(cid), Path(record["LogPath"]),
                                      name=record["Name"].lstrip("/"),
                                      terminal=record["Config"]["Tty"],
                                      stdin=record["Config"]["OpenStdin"],
                                      exit_command=self._exit_command(cid),
                                      log_size_max=_log_size(record),
                                      log_driver=_log_driver(record),
                                      guard=tables.guard if tables else None,
                                      before_create=prepare_bundle,
                                      while_creating=while_creating)
            if attach and sock is None:
                from ...runtime.attach import connect
                sock = connect(attach_path(self.userdata(cid)))
            fd, fifo_fd = fifo_fd, None  # start closes it
            self.monitor_of(cid).start(cid, pid, fd)
            record = self.store.update(cid, lambda r: status.mark_running(r, pid))
        except BaseException as exc:
            self._cleanup_runtime(cid)
            if isinstance(exc, ContainerCommandError):  # 126/127: Docker records the failure
                self.store.update(cid, lambda r: status.mark_failed(r, exc))
            if sock is not None:
                sock.close()
            if fifo_fd is not None:
                os.close(fifo_fd)
            raise
        self.events().container("start", record)
        try:
            record = self.hooks.on_start(self, record)  # ends a pending restart, health loop, logs
        except BaseException:
            if sock is not None:
                sock.close()
            raise
        return record, sock

    def _exit_command(self, cid: str) -> list[str]:
        # flock -n: skipped while a foreground CLI holds the container's attach lock (it
        # cleans up itself; a second Python process would only compete for the CPU)
        # (only tested, not held: the cleanup may restart the container, whose own exit
        # command must then find the lock free)
        return ["/bin/sh", "-c", 'flock -n "$0" true || exit 0; exec "$@"', str(self.attach_lock(cid)),
                sys.executable, "-m", "pallet.cli.main", "--root", str(self.paths.root),
                "--runroot", str(self.paths.runroot), "container", "cleanup", cid]

    def exec_guard(self, cid: str) -> bytes | None:
        """The seccomp guard filter a process joining the container must run under (None when
        its bundle holds Docker's allowlist as is); see `pallet.runtime.syscall_guard`."""
        from ...runtime.syscall_guard import from_bundle
        return from_bundle(self.userdata(cid))

    def exec_process(self, record: dict, args: list[str], *, env: list[str] = (),
                     workdir: str | None = None, user: str | None = None, tty: bool = False,
                     privileged: bool = False) -> dict:
        """The OCI process ``docker exec`` runs in this running container (see
        `spec.exec_process`); `user` (``-u``) resolves in the container's own /etc/passwd and
        /etc/group, with its --group-add, as its own process's user did. An unknown user
        is Docker's 126: the process cannot be started."""
        from ...runtime.spec import exec_process
        from .config import process_groups
        cid = record["Id"]
        try:
            base = jsontext.loads((self.userdata(cid) / "config.json").read_bytes())["process"]
        except (OSError, ValueError, KeyError) as exc:
            raise PalletError(f"container {cid}: its bundle is unreadable: {exc}") from None
        ids = {}
        if user:
            try:
                uid, gid, gids = process_groups(self.rootfs(cid), user, record["HostConfig"].get("GroupAdd"))
            except NotFound as exc:
                raise ContainerCommandError(str(exc), 126) from None
            ids = {"uid": uid, "gid": gid, "additional_gids": gids}
        return exec_process(base, args, env=env, cwd=workdir or record["Config"].get("WorkingDir") or None,
                            terminal=tty, privileged=privileged, **ids)

    def attach_lock(self, cid: str) -> Path:
        return self.userdata(cid) / "attached.lock"

    def foreground(self, cid: str, blocking: bool = True):
        """Held (`with`) by a CLI that waits for the container and cleans up after it (`run`
        without -d), or by a waiter (containers.wait). Only without a restart policy: a policy
        is carried out by the exit command. Not `blocking`: held only if nobody else holds it."""
        from ...store.locks import flocked, unlocked
        policy = (self.store.get(cid)["HostConfig"].get("RestartPolicy") or {}).get("Name", "no")
        if policy not in ("", "no"):
            return unlocked()
        return flocked(self.attach_lock(cid), blocking=blocking)

    def _cleanup_runtime(self, cid: str) -> None:
        """Undo what a start did: runc's container, the rootfs mount, the exit file."""
        from ...snapshot import overlay
        mon = self.monitor_of(cid)
        if (mon.runc.root / cid).exists():  # runc delete costs a fork; skip when nothing's there
            try:
                mon.delete(cid, force=True, keep_exit=True)
            except PalletError:
                pass
        self.hooks.on_stop(self, cid)  # the network's sandbox, the health loop
        overlay.unmount(self.rootfs(cid))

    # ---- exit handling ----
    def cleanup(self, ref: str) -> None:
        """Run by conmon's exit command (and by stop/rm/wait): record the exit, release the rootfs."""
        try:
            cid = self.resolve(ref)
            with self._locked(cid):
                removed = self._cleanup_locked(cid)
        except NotFound:  # removed meanwhile (by rm, or by the foreground run's own cleanup)
            return
        if removed is not None:  # --rm: the record is gone, its storage waits in the trash
            record, trash = removed
            if trash is not None:
                from ...store.layers import force_rmtree
                force_rmtree(trash)
            self.hooks.on_remove(self, record, True)

    def _cleanup_locked(self, cid: str) -> tuple[dict, Path | None] | None:
        record = self.store.get(cid)
        code = self.monitor.exit_code(cid)
        if code is None and record["State"]["Running"] and status.monitor_alive(self, cid):
            return None  # still running: nothing to clean up
        finished = self._finished_at(cid)
        oom = self._oom_killed(cid)  # before runc delete takes the cgroup with it
        self._cleanup_runtime(cid)
        if record["State"]["Running"]:  # the one place an exit is recorded: its `die`
            self.events().container("die", record, exitCode=255 if code is None else code)
        if record["HostConfig"].get("AutoRemove"):  # --rm: the record goes now (waiters read the exit file)
            trash = self._unlink_locked(cid)
            self.events().container("destroy", record)
            return record, trash
        if record["State"]["Running"]:
            self.store.update(cid, lambda r: status.mark_exited(r, 255 if code is None else code, finished, oom))
        return None

    def _finished_at(self, cid: str) -> str:
        try:
            return rfc3339_ts(self.monitor.exit_path(cid).stat().st_mtime)
        except OSError:
            return now_rfc3339()

    def _oom_killed(self, cid: str) -> bool:
        """Read before runc delete removes the cgroup."""
        from ...runtime.cgroups import oom_killed
        from ...runtime.spec import cgroups_path
        return oom_killed(cgroups_path(cid))

    # ---- stop / kill / wait ----
    def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        self.stop_many([ref], timeout, signal)

    def stop_many(self, refs: list[str], timeout: int | None = None, signal: str | None = None,
                  on_error=None) -> list[str]:
        """Docker's stop for several containers at once (see container_stop)."""
        from .stop import stop_many
        stopped = stop_many(self, refs, timeout, signal, on_error)
        for ref in stopped:
            try:
                self.events().container("stop", self.store.get(self.resolve(ref)))
            except NotFound:
                pass  # --rm: its destroy is recorded
        return stopped

    def forward_signal(self, cid: str, sig: str) -> None:
        """A signal the attached client received, sent on (docker's --sig-proxy); a
        container that has already gone is not an error."""
        self._signal(cid, sig)

    def _signal(self, cid: str, sig: str) -> None:
        from ...opts.signals import parse_signal
        try:
            self.monitor_of(cid).runc.kill(cid, parse_signal(sig))
        except PalletError:
            pass  # already gone: the exit file says how it ended

    def _runc_quiet(self, verb: str, cid: str) -> None:
        try:
            getattr(self.monitor_of(cid).runc, verb)(cid)
        except PalletError:
            pass

    def _wait_exit(self, cid: str, timeout: float) -> bool:
        try:
            self.monitor.wait_exit(cid, self.userdata(cid), timeout=timeout)
            return True
        except TimeoutError:
            return False
        except PalletError:
            return True  # the monitor is gone: nothing left to wait for

    def kill(self, ref: str, signal: str = "KILL", by_user: bool = True) -> None:
        """Docker's kill: whatever the signal, the container counts as stopped by the user, so
        the exit it causes never triggers its restart policy (until the next manual start).
        A kill by --health-on-failure (by_user False) leaves the policy to act."""
        from ...opts.signals import parse_signal
        from .restart import on_stop
        number = parse_signal(signal)
        named = ref.lstrip("/")  # as dockerd's router cleans the path: //foo is foo
        try:  # dockerd's words for every kill that fails (`pallet kill` and the API alike)
            cid = self.resolve(ref)
        except NotFound as exc:
            raise NotFound(f"Cannot kill container: {named}: {exc}") from None
        record = self.get(cid)
        if record["State"].get("Restarting") and by_user:
            on_stop(self, cid)  # moby: a restarting container counts as running; the kill cancels it
            return
        if not record["State"]["Running"]:
            raise Conflict(f"Cannot kill container: {named}: Container {cid} is not running")
        if by_user:
            on_stop(self, cid)
        self.monitor_of(cid).runc.kill(cid, number)
        self.events().container("kill", record, signal=number)
        if number == 9:  # as dockerd: a SIGKILL returns once the process is gone
            self._wait_exit(cid, 10)

    def wait(self, ref: str) -> int:
        cid = self.resolve(ref)
        record = self.get(cid)
        if not record["State"]["Running"]:
            if self.store.get(cid)["State"]["Running"]:  # it ended before we looked: record it
                self.cleanup(cid)                        # (its exit command may have been skipped)
            return record["State"]["ExitCode"]
        code = None
        try:
            code = self.monitor.wait_exit(cid, self.userdata(cid))
        except PalletError:
            pass
        try:
            self.cleanup(cid)
            state = self.get(cid)["State"]
            if code is not None and state["Running"]:
                return code  # restarted meanwhile (`restart`, a policy): this run's exit
            return state["ExitCode"]
        except NotFound:  # --rm removed it meanwhile; the exit file outlives the record
            code = self.monitor.exit_code(cid) if code is None else code
            return status.UNKNOWN_EXIT if code is None else code

    def wait_condition(self, ref: str, condition: str = "not-running"):
        """Docker's `wait` conditions (see containers.wait): a function that blocks until
        `condition` holds and returns the exit code; a bad ref or condition fails now."""
        from .wait import prepare
        return prepare(self, ref, condition)

    def restart(self, ref: str, timeout: int | None = None) -> None:
        self.stop(ref, timeout)
        record = self.start(ref)
        self.events().container("restart", record)

    # ---- pause ----
    def pause(self, ref: str) -> None:
        cid = self.resolve(ref)
        record = self.get(cid)
        if not record["State"]["Running"]:
            raise Conflict(f"Container {cid} is not running")
        if record["State"]["Paused"]:
            raise Conflict(f"Container {cid} is already paused")
        self.monitor_of(cid).runc.pause(cid)
        self.store.update(cid, lambda r: r["State"].update(Paused=True, Status="paused"))
        self.events().container("pause", record)

    def unpause(self, ref: str) -> None:
        cid = self.resolve(ref)
        record = self.get(cid)
        if not record["State"]["Paused"]:
            raise Conflict(f"Container {cid} is not paused")
        self.monitor_of(cid).runc.resume(cid)
        self.store.update(cid, lambda r: r["State"].update(Paused=False, Status="running"))
        self.events().container("unpause", record)

    # ---- remove / rename ----
    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        cid = self.resolve(ref)
        self.db.make_room()  # on a full disk: what rm writes before it deletes
        record = self.get(cid)
        if record["State"]["Running"]:
            if not force:
                raise Conflict(f'cannot remove container "{record["Name"]}": container is running: '
                               "stop the container before removing or force remove")
            self._signal(cid, "SIGKILL")
            self._wait_exit(cid, 30)
        had_runc_state = (self.monitor_of(cid).runc.root / cid).exists()
        with self._locked(cid, missing_ok=True):
            try:
                unrecorded_exit = self.store.get(cid)["State"]["Running"]  # cleanup never ran
            except NotFound:
                unrecorded_exit = False
            self._cleanup_runtime(cid)  # runc delete takes the cgroups with the state
            trash = self._unlink_locked(cid)
        if unrecorded_exit:
            code = self.monitor.exit_code(cid)
            self.events().container("die", record, exitCode=255 if code is None else code)
        self.events().container("destroy", record)
        if not had_runc_state:
            # runc's state was gone but its cgroups may not be: a reboot-like wipe of the
            # runroot under a running container leaves them for nobody else to remove
            from ...runtime.cgroups import remove_leftovers
            from ...runtime.spec import cgroups_path
            remove_leftovers(cgroups_path(cid))
        if trash is not None:
            from ...store.layers import force_rmtree
            force_rmtree(trash)
        self.hooks.on_remove(self, record, volumes)  # anonymous volumes with -v (or --rm)
        if os.urandom(1)[0] < 16:  # now and then: it lists and stats the whole exits dir
            self._sweep_exit_files()
        self.db.restore_reserve()  # one stat while it is there

    def _sweep_exit_files(self, age: float = 300.0) -> None:
        """Exit files outlive removed containers (a waiter may still read one); not for long."""
        exits = self.paths.runroot / "exits"
        now = time.time()
        for f in exits.iterdir() if exits.exists() else []:
            try:
                if now - f.stat().st_mtime > age and not self.store.exists(f.name):
                    f.unlink()
            except (OSError, NotFound):
                continue

    def _unlink_locked(self, cid: str) -> Path | None:
        """Under the container's lock: its storage out of sight (renamed into the trash),
        then its record; returns the trash entry for the caller to delete. A crash between
        the two leaves a record without storage (`rm` finishes it), one after, an entry in
        the trash (every prune sweeps it): never storage that no record and no sweep sees."""
        trash = self._storage_to_trash(cid)
        crash_point("rm:storage-in-trash")
        self.store.delete(cid)
        crash_point("rm:record-deleted")
        return trash

    def _storage_to_trash(self, cid: str) -> Path | None:
        remove_mount_point(self.paths.container_run(cid))
        try:  # conmon's link to the bundle (monitor_for's socket dir)
            os.unlink(self.paths.runroot / "socket" / cid)
        except FileNotFoundError:
            pass
        d, trash = self.paths.container(cid), self.paths.trash / f"c-{cid[:12]}-{os.urandom(4).hex()}"
        for _ in range(2):
            try:
                os.rename(d, trash)
                return trash
            except FileNotFoundError:
                if not d.exists():
                    return None
                self.paths.trash.mkdir(parents=True, exist_ok=True)
        return None

    def _remove_storage(self, cid: str) -> None:
        from ...store.layers import force_rmtree
        trash = self._storage_to_trash(cid)
        if trash is not None:
            force_rmtree(trash)

    def rename(self, ref: str, new_name: str) -> None:
        # moby's ContainerRename: names trimmed of spaces; the new one made "/name" before
        # reserveName checks it, so a refusal quotes it with its '/'
        ref, new_name = ref.strip(), new_name.strip()
        if not ref.removeprefix("/") or not new_name.removeprefix("/"):
            raise InvalidArgument("Neither old nor new names may be empty")
        cid = self.resolve(ref)
        try:
            new_name = container_name(new_name if new_name.startswith("/") else "/" + new_name)
        except InvalidArgument as exc:
            raise InvalidArgument(f"Error when allocating new name: {exc}") from None
        if self.store.get(cid)["Name"] == "/" + new_name:
            raise InvalidArgument("Renaming a container with the same name as its current name")
        holder = self.store.named(new_name)
        if holder:
            raise Conflict(f'Error when allocating new name: Conflict. The container name "/{new_name}" '
                           f"is already in use by container \"{holder}\". "
                           "You have to remove (or rename) that container to be able to reuse that name.")
        old = self.store.get(cid)["Name"]
        self.store.rename(cid, new_name)
        self.events().container("rename", self.store.get(cid), oldName=old)

    # ---- in and out of a running container (pallet.services.containers.streams) ----
    def exec(self, req: ExecRequest, stdin=None, stdout=None, stderr=None) -> int:
        """`exec`: the command's exit code; streams are files with a descriptor, or None."""
        from .streams import exec_in
        return exec_in(self, req, stdin, stdout, stderr)

    def resize(self, ref: str, height: int, width: int) -> None:
        """The container's terminal is now `height` x `width` (`POST /containers/{id}/resize`);
        nothing for a container without one, or not running."""
        from ...runtime.attach import resize
        try:
            resize(self.userdata(self.resolve(ref)), height, width)
        except OSError:
            pass

    def exec_create(self, req: ExecRequest) -> ExecRequest:
        """An exec instance for `req` (`POST /containers/{id}/exec`): the request with the
        container's full ID and the new `exec_id`, its exec_create event recorded."""
        from .streams import exec_create
        return exec_create(self, req)

    def exec_target(self, ref: str) -> dict:
        """The record of a container a process may join (running, not paused), or Conflict."""
        from .streams import exec_target
        return exec_target(self, ref)

    def exec_terminal(self, req: ExecRequest):
        """`exec -it`: an ExecTerminal to relay, resize and `wait()` on (close it when done)."""
        from .streams import exec_terminal
        return exec_terminal(self, req)

    def logs(self, req: LogsRequest):
        """`logs`: an iterator of log records, oldest first (followed with `req.follow`)."""
        from .streams import logs
        return logs(self, req)

    def attach(self, ref: str):
        """`attach`: an Attachment to the running container's stdio (close it when done)."""
        from .streams import attach
        return attach(self, ref)

    # ---- top / stats / update / prune (pallet.services.containers.ops) ----
    def top(self, ref: str, ps_args: list[str]) -> tuple[list[str], list[list[str]]]:
        from .ops import top
        return top(self, ref, ps_args)

    def stats(self, refs: list[str], all_containers: bool = False) -> list:
        """One `stats` frame: the named containers, else the running ones (all with -a)."""
        from .ops import stats
        if refs:
            records = [(ref, self.get(ref)) for ref in refs]
        else:
            records = [(r["Id"][:12], r) for r in self.list() if all_containers or r["State"]["Running"]]
        return stats(self, records)

    def update(self, ref: str, req: UpdateRequest) -> None:
        from .ops import update
        update(self, ref, req)

    def update_warnings(self, req: UpdateRequest) -> list[str]:
        """What Docker's daemon warns about (and discards) for this update on this host."""
        from .ops import update_warnings
        return update_warnings(req)

    def prune(self, filters: dict | None = None) -> tuple[list[str], int]:
        """`container prune`: every stopped container `filters` (until, label, label!) selects."""
        from ...opts.filters import Filters
        from .ops import prune_containers
        f = Filters(filters)
        f.validate(("until", "label", "label!"))
        return prune_containers(self, f)

    # ---- what the monitors run ----
    def exited(self, ref: str) -> None:
        """conmon's exit command: record the exit, then the plug-ins (the restart policy)."""
        self.cleanup(ref)
        self.hooks.on_exit(self, ref)

    def healthcheck(self, ref: str) -> str:
        """One run of the container's healthcheck (its health loop calls it); the new status."""
        from .health import run_check
        return run_check(self, ref)

    def restore(self, on_error=None) -> list[str]:
        """At boot: start what a restart policy keeps up; `on_error(id, exc)` hears failures."""
        from .restart import restore
        return restore(self, on_error)


class _ContainerLock:
    """flock on a container's lock file, which is never made where its directory is gone
    (the container was removed: NotFound)."""

    def __init__(self, path: Path, cid: str):
        from ...store.locks import flocked
        self.held, self.cid = flocked(path), cid

    def __enter__(self) -> bool:
        try:
            return self.held.__enter__()
        except FileNotFoundError:
            raise NotFound(f"No such container: {self.cid}") from None

    def __exit__(self, *exc) -> None:
        self.held.__exit__(*exc)


def remove_mount_point(run_dir: Path) -> None:
    """The container's runroot directory: an empty mount point once unmounted. rmdir, which
    cannot delete through a mount still there; anything else in it is left for `system check`."""
    for d in (run_dir / "rootfs", run_dir):
        try:
            os.rmdir(d)
        except FileNotFoundError:
            continue
        except OSError:
            if os.path.ismount(d) or d == run_dir / "rootfs":
                return
            from ...store.layers import force_rmtree
            force_rmtree(d)


def _connect_early(attach_path: Path, tries: int = 20):
    """The attach connection, made while runc creates the container (conmon listens from
    just after it starts runc; the connection waits in its backlog until conmon's loop
    runs): off the critical path. None if the socket did not appear within ~10 ms, and
    the caller connects after the create as before."""
    from ...runtime.attach import connect
    for _ in range(tries):
        try:
            return connect(attach_path)
        except NotFound:
            time.sleep(0.0005)
    return None


def _warm_up_exit_path() -> None:
    """Import what attaching to and the exit of a container need while runc creates it (see
    Monitor.create): off the critical path, on the CPU runc leaves idle."""
    from . import network as container_network  # noqa: F401
    from ...network import state  # noqa: F401
    from ...runtime import attach, cgroups  # noqa: F401


def _log_driver(record: dict) -> str:
    """conmon's driver: `none` keeps nothing; every other container has the k8s-file log."""
    return "none" if record["HostConfig"].get("LogConfig", {}).get("Type") == "none" else "k8s-file"


def _check_runtime(name: str) -> None:
    from ...runtime.runc import which
    if not which(name):
        raise InvalidArgument(f"unknown or invalid runtime name: {name}")


def _log_size(record: dict) -> int | None:
    from ...opts.units import parse_bytes
    size = (record["HostConfig"].get("LogConfig", {}).get("Config") or {}).get("max-size")
    return parse_bytes(size) if size else None

