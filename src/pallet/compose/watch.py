"""`compose watch`: a project's `develop.watch` rules, and what a batch of changes does.

Owns, as docker compose v2 (pkg/compose/watch.go) does it:
- the rules: each service's `develop.watch` triggers, path made absolute against the
  project directory, with what to leave out: the trigger's `ignore` patterns (relative
  to its path), the service's build context `.dockerignore` (`<Dockerfile>.dockerignore`
  first), editors' temporary files, and `.git`; `include` keeps only what it names;
- the checks before anything runs: no rules ("none of the selected services is
  configured for watch..."), `rebuild` on a service without `build`, `sync+exec`
  without a command;
- a batch (pallet.compose.watcher): each changed path against each rule, then the
  actions: `rebuild` (build, recreate, start; the replaced image removed with --prune),
  `sync`, `sync+restart` and `sync+exec` (the path copied, or deleted, in every
  container of the service), `restart` and `sync+restart` (the containers restarted),
  `sync+exec` (the rule's `exec` command run in each running container). Messages go
  to `log` as compose prints them. A failed batch is a warning, and watching goes on.
Every write into a container goes through pallet.services.container_fs (the code of
`pallet cp`), which resolves paths inside the container and refuses an archive entry or
target that leads out of it. Never imports pallet.cli.
"""
from __future__ import annotations

import json
import os
import posixpath

from ..errors import InvalidArgument, NotFound, PalletError
from ..record import dataclass
from .watcher import Watcher, is_child

SYNC_ACTIONS = ("sync", "sync+restart", "sync+exec")

# editors' and tools' temporary files (compose's EphemeralPathMatcher)
EPHEMERAL = ["**/*___jb_old___", "**/*___jb_tmp___", "**/.idea/**", "**/.#*", "**/#*#", "**/4913", "**/*~",
             "**/.*.swp", "**/.*.swx", "**/.*.swo", "**/.*.swn", "**/.*.kate-swp", "**/*-go-tmp-umask"]


@dataclass
class Rule:
    service: str
    action: str
    path: str          # absolute host path
    target: str        # container path (sync actions), "" otherwise
    ignore: list       # (root, Matcher): a path under root that the matcher excludes is ignored
    include: object    # a Matcher over paths relative to `path`, or None: everything
    hook: dict         # sync+exec's `exec`: command, user, privileged, working_dir, environment
    initial_sync: bool = False  # copy what is under `path` before watching

    def container_path(self, host: str) -> str | None:
        """Where the changed host path goes in the container ("" for actions without a
        target); None when the rule does not concern it."""
        if not is_child(self.path, host):
            return None
        rel = os.path.relpath(host, self.path)
        if self.include is not None and not self.include.excluded(rel):
            return None
        if os.path.basename(host) == ".git" or "/.git/" in host:
            return None
        for root, matcher in self.ignore:
            if is_child(root, host) and matcher.excluded(os.path.relpath(host, root)):
                return None
        if not self.target:
            return ""
        return posixpath.normpath(posixpath.join(self.target, "" if rel == "." else rel))


def rules(project, services: list[str], warn) -> list[Rule]:
    """The watch rules of `services` (all when none) and of what they depend on."""
    from ..build.dockerignore import Matcher
    found = []
    for name in project.ordered(project.with_dependencies(list(services))):
        svc = project.services[name]
        triggers = ((svc.get("develop") or {}).get("watch")) or []
        ignores = _dockerignore(svc.get("build"))
        for trigger in triggers:
            action = trigger["action"]
            if action == "rebuild" and svc.get("build") is None:
                raise InvalidArgument(f'can\'t watch service "{name}" with action rebuild without a build context')
            if action == "sync+exec" and not (trigger.get("exec") or {}).get("command"):
                raise InvalidArgument(f'can\'t watch with action "sync+exec" on service {name} without a command')
            path = os.path.normpath(os.path.join(project.working_dir, os.path.expanduser(trigger["path"])))
            if action in SYNC_ACTIONS and _bind_mounted(path, svc):
                warn(f"path '{path}' also declared by a bind mount volume, this path won't be monitored!")
                continue
            include = _list(trigger.get("include"))
            target = (trigger.get("target") or "") if action in SYNC_ACTIONS else ""
            found.append(Rule(name, action, path, target,
                              [*ignores, (path, Matcher(_list(trigger.get("ignore")))), ("/", Matcher(EPHEMERAL))],
                              Matcher(include) if include else None, trigger.get("exec") or {},
                              _initial_sync(trigger, warn)))
    if not found:
        raise InvalidArgument("none of the selected services is configured for watch, "
                              "consider setting a 'develop' section")
    return found


def _initial_sync(trigger: dict, warn) -> bool:
    if trigger.get("initial_sync"):
        return True
    if trigger.get("x-initialSync"):
        warn("x-initialSync is DEPRECATED, please use the official `initial_sync` attribute")
        return True
    return False


def initial_sync(compose, rule: Rule) -> None:
    """`initial_sync: true`: every file under the rule's path that it does not leave out,
    copied in before watching begins."""
    found = []
    if os.path.isfile(rule.path):
        found = [rule.path]
    for top, dirs, files in os.walk(rule.path):
        dirs[:] = [d for d in dirs if rule.container_path(os.path.join(top, d)) is not None]
        found += [os.path.join(top, f) for f in files]
    mappings = [(h, rule.container_path(h)) for h in found]
    sync(compose, rule.service, [(h, c) for h, c in mappings if c is not None])


def _list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _dockerignore(build) -> list:
    """The build context's ignore file, as (context, Matcher); none for a remote context."""
    from ..build.dockerignore import Matcher, read_patterns
    if not build or "://" in build.get("context", ""):
        return []
    context = build["context"]
    for name in (build.get("dockerfile", "Dockerfile") + ".dockerignore", ".dockerignore"):
        try:
            with open(os.path.join(context, name), encoding="utf-8") as f:
                return [(context, Matcher(read_patterns(f.read())))]
        except (FileNotFoundError, NotADirectoryError):
            continue
    return []


def _bind_mounted(path: str, svc: dict) -> bool:
    return any(v.get("type") == "bind" and v.get("source") and is_child(os.path.normpath(v["source"]), path)
               for v in svc.get("volumes") or [])


def _quoted(names) -> str:
    """Go's %q of a []string: ["a" "b"]."""
    return "[" + " ".join(json.dumps(n) for n in names) + "]"


class Session:
    """One `compose watch`: its rules, and what each batch of changes does."""

    def __init__(self, compose, rules_: list[Rule], log, warn, prune: bool = True, build_output=None):
        self.compose, self.rules = compose, rules_
        self.log, self.warn, self.prune = log, warn, prune
        self.build_output = build_output

    def run(self) -> None:
        """Watch until a signal ends it ("Watch disabled" then, as compose says)."""
        with Watcher([r.path for r in self.rules]) as watcher:
            self.log("Watch enabled")
            try:
                for batch in watcher.batches():
                    try:
                        self.handle(batch)
                    except (PalletError, OSError) as exc:  # a file gone mid-copy, a refused archive
                        self.warn(f"Error handling changed files: {exc}")
            finally:
                self.log("Watch disabled")

    def handle(self, batch) -> None:
        rebuild, restart, syncs, hooks = [], [], {}, []
        for host in sorted(batch):
            for rule in self.rules:
                where = rule.container_path(host)
                if where is None:
                    continue
                if rule.action == "rebuild":
                    _add(rebuild, rule.service)
                if rule.action in SYNC_ACTIONS:
                    syncs.setdefault(rule.service, []).append((host, where))
                if rule.action in ("restart", "sync+restart"):
                    _add(restart, rule.service)
                if rule.action == "sync+exec":
                    _add(hooks, rule)
        if rebuild:
            self.rebuild(rebuild)
        for service, mappings in syncs.items():
            self.log(f'Syncing service "{service}" after {len(mappings)} changes were detected')
            sync(self.compose, service, mappings)
        if restart:
            self.compose.restart(restart)
            self.log(f"service(s) {_quoted(restart)} restarted")
        for rule in hooks:  # once a batch, after the files are in
            run_hook(self.compose, rule.service, rule.hook)

    def rebuild(self, services: list[str]) -> None:
        """Build the services' images, recreate their containers and start them."""
        from ..services.compose_types import UpOptions
        from . import converge
        compose = self.compose
        self.log(f"Rebuilding service(s) {_quoted(services)} after changes were detected...")
        before = {_image_id(compose, s) for s in services} - {None}
        try:
            compose.build(services, emit=self.build_output)
        except PalletError as exc:
            self.log(f"Build failed. Error: {exc}")
            raise
        self.log(f"service(s) {_quoted(services)} successfully built")
        try:
            compose.up(UpOptions(services=services, no_deps=True, build="never", force_recreate=True, start=False))
        except PalletError as exc:
            self.log(f"Failed to recreate services after update. Error: {exc}")
            raise
        try:
            converge.start(compose, services)
        except PalletError as exc:
            self.log(f"Application failed to start after update. Error: {exc}")
        if self.prune:
            _prune(compose, before - {_image_id(compose, s) for s in services})


def run_hook(compose, service: str, hook: dict) -> None:
    """sync+exec's command in each running container of the service, its output on this
    process's own stdout and stderr (as compose runs it attached)."""
    from ..services.container_types import ExecRequest
    env = [k if v is None else f"{k}={v}" for k, v in (hook.get("environment") or {}).items()]
    for record in compose.containers([service], running_only=True):
        code = compose.engine.containers.exec(ExecRequest(
            record["Id"], list(hook["command"]), env=env, user=hook.get("user"),
            workdir=hook.get("working_dir"), privileged=bool(hook.get("privileged"))))
        if code != 0:
            raise PalletError(f"exit code {code}")


def _add(names: list, name) -> None:
    if name not in names:
        names.append(name)


def _image_id(compose, service: str) -> str | None:
    try:
        return compose.image_id(service)
    except NotFound:
        return None


def _prune(compose, replaced: set[str]) -> None:
    """The images a rebuild left without a name, unless something still uses them."""
    images = compose.engine.images
    for image_id in replaced:
        try:
            if not images.repo_tags(image_id):
                images.remove(image_id)
        except PalletError:
            pass  # a container (or a child image) still uses it: it stays, as compose leaves it


def sync(compose, service: str, mappings: list[tuple[str, str]]) -> None:
    """Copy each (host path, container path) into every container of the service, or, when
    the host path is gone, delete the container path; all through container_fs."""
    import tempfile
    fs = compose.engine.container_fs
    present = [(h, c) for h, c in _outermost(mappings) if os.path.lexists(h)]
    gone = [c for h, c in _outermost(mappings) if not os.path.lexists(h)]
    with tempfile.TemporaryFile(prefix="pallet-watch-") as archive:
        if present:
            _write_archive(present, archive)
        for record in compose.containers([service]):
            for path in gone:
                fs.remove(record["Id"], path)
            if present:
                archive.seek(0)
                fs.extract_into(record["Id"], archive, "/", archive=True)


def _outermost(mappings: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Without the paths another one of the list already covers (a file in a new directory)."""
    kept: list[tuple[str, str]] = []
    for host, where in sorted(set(mappings), key=lambda m: m[1]):
        if not any(is_child(w, where) for _h, w in kept):
            kept.append((host, where))
    return kept


def _write_archive(present: list[tuple[str, str]], out) -> None:
    """A tar to extract at the container's root: each host path under its container path
    (directories with what is in them, symlinks as symlinks), after the directories that
    lead there (created when missing, kept as they are when present)."""
    import tarfile
    import time
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        made: set[str] = set()
        for host, where in present:
            name = where.strip("/")
            if not name:
                raise InvalidArgument(f"cannot sync {host} over the container's root directory")
            parts = name.split("/")
            for i in range(1, len(parts)):
                parent = "/".join(parts[:i])
                if parent not in made:
                    made.add(parent)
                    info = tarfile.TarInfo(parent)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
                    tar.addfile(info)
            try:
                tar.add(host, arcname=name, recursive=True)
            except FileNotFoundError:
                continue  # removed again since the event: the next batch deletes it


def run(compose, options, log, warn) -> None:
    """`compose watch`: the rules checked, the project up (unless --no-up), then watching
    until a signal (KeyboardInterrupt) ends it."""
    project = compose.project
    found = rules(project, list(options.services), warn)
    with _ProjectLock(compose.engine.paths.compose_watch_lock(project.name), project.name):
        _up_and_watch(compose, options, found, log, warn)


class _ProjectLock:
    """One `watch` of a project at a time (compose's pidfile lock): flock(2) on the file,
    released even when the holder is killed, the holder's PID in it."""

    def __init__(self, path, project: str):
        self.path, self.project, self.fd = path, project, -1

    def __enter__(self):
        import fcntl
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 32, 0).decode(errors="replace").strip()
            os.close(self.fd)
            raise PalletError(f'cannot take exclusive lock for project "{self.project}": '
                              f"process with PID {holder} is still running") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def _up_and_watch(compose, options, found: list[Rule], log, warn) -> None:
    from ..services.compose_types import UpOptions
    project = compose.project
    output = None if options.quiet else compose.build_output
    if not options.no_up:
        for name in {r.service for r in found}:  # compose builds a watched service's image each time
            if project.services[name].get("build") is not None:
                project.services[name]["pull_policy"] = "build"
        compose.build_output = output
        names = compose.up(UpOptions(services=list(options.services), start=False))
        compose.start_services(names)
    for rule in found:
        if rule.initial_sync and rule.action in SYNC_ACTIONS:
            initial_sync(compose, rule)
    Session(compose, found, log, warn, options.prune, output or (lambda line: None)).run()
