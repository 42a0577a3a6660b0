"""The verbs of `pallet compose` (see pallet.cli.compose): decode, one ComposeService call, render."""
from __future__ import annotations

from ..errors import InvalidArgument, NotFound, PalletError
from .compose_views import LogPrinter, short_name, images, logs, ls, port, ps, top
from .flags import Command, F

TIMEOUT = F("timeout", "t", kind="int", help="Specify a shutdown timeout in seconds")


def _scale(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        name, eq, n = item.partition("=")
        if not eq or not n.isdigit():
            raise InvalidArgument(f"invalid --scale option {item!r}: expected SERVICE=NUM")
        out[name] = int(n)
    return out


def _pull_policy(text: str | None) -> str | None:
    if text in (None, ""):
        return None  # the services' own pull_policy
    if text not in ("always", "missing", "never", "build", "policy"):
        raise InvalidArgument(f"invalid --pull option {text!r}")
    return "missing" if text == "policy" else text


def _build_policy(o) -> str | None:
    if o.build and o.no_build:
        raise InvalidArgument("--build and --no-build are incompatible")
    return "always" if o.build else "never" if o.no_build else None


def _emit_build(cc):
    return lambda line: cc.ctx.stderr.write(line if line.endswith("\n") else line + "\n")


# ---- config ----
def config(cc, o, args) -> int:
    import json
    if o.no_interpolate:
        cc.interpolate = False
    project = cc.project(args)
    if o.quiet:
        return 0
    if o.services:
        cc.ctx.stdout.write("".join(s + "\n" for s in project.ordered()))
        return 0
    if o.volumes:
        cc.ctx.stdout.write("".join(v + "\n" for v in project.volumes))
        return 0
    if o.profiles:
        cc.ctx.stdout.write("".join(p + "\n" for p in project.profiles()))
        return 0
    if o.images:
        cc.ctx.stdout.write("".join(project.image_name(s) + "\n" for s in project.ordered()))
        return 0
    if o.hash is not None:
        wanted = project.ordered() if o.hash == "*" else o.hash.split(",")
        for s in wanted:
            cc.ctx.out(f"{s} {project.config_hash(s)}")
        return 0
    doc = project.document()
    if args:
        doc["services"] = {s: doc["services"][s] for s in args if s in doc["services"]}
    if (o.format or "yaml") == "json":
        text = json.dumps(doc, indent=2) + "\n"
    elif o.format == "yaml" or not o.format:
        import yaml
        text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=True)
    else:
        raise InvalidArgument(f"unsupported format {o.format!r}")
    if o.output:
        with open(o.output, "w") as f:
            f.write(text)
    else:
        cc.ctx.stdout.write(text)
    return 0


# ---- up / create / start ----
def up(cc, o, args) -> int:
    from ..services.compose_types import UpOptions
    if o.detach and (o.abort_on_container_exit or o.exit_code_from):
        raise InvalidArgument("--abort-on-container-exit and --detach are incompatible" if o.abort_on_container_exit
                              else "--exit-code-from and --detach are incompatible")
    if o.no_start and (o.detach or o.wait):
        raise InvalidArgument("--no-start and --detach are incompatible")
    if o.exit_code_from:
        o["abort_on_container_exit"] = True
    if o.force_recreate and o.no_recreate:
        raise InvalidArgument("--force-recreate and --no-recreate are incompatible")
    svc = cc.service(args)
    names = svc.up(UpOptions(services=list(args), no_deps=o.no_deps, build=_build_policy(o),
                             pull=_pull_policy(o.pull), force_recreate=o.force_recreate,
                             no_recreate=o.no_recreate, scale=_scale(o.scale), remove_orphans=o.remove_orphans,
                             start=False, timeout=o.timeout))
    if o.no_start:
        return 0
    if o.exit_code_from and o.exit_code_from not in svc.project.services:
        raise NotFound(f"no such service: {o.exit_code_from}")
    if o.detach or o.wait:
        svc.start_services(names)
        if o.wait:
            svc.wait_running(names, o.wait_timeout or None)
        return 0
    return _attached(cc, svc, names, o)


def _attached(cc, svc, names: list[str], o) -> int:
    """`up` without -d: start, then print every container's log until they all exit (or Ctrl-C)."""
    attached = _attached_services(svc.project, names, o)
    records = svc.containers(attached)
    short = {r["Id"]: short_name(svc.project.name, r) for r in records}
    cc.ctx.out("Attaching to " + ", ".join(short[r["Id"]] for r in records))
    svc.start_services(names)
    records = svc.containers(attached)
    printer = LogPrinter(cc, list(short.values()), prefix=not o.no_log_prefix, color=cc.color and not o.no_color)
    exit_code, first = 0, None
    try:
        for name, rec in svc.logs(records, follow=True, names=short):
            if rec is not None:
                printer.line(name, rec, o.timestamps)
                continue
            code = _exit_code_of(cc, svc, name, records, short)
            printer.status(name, f"exited with code {code}")
            if first is None:
                first = (name, code)
            if o.abort_on_container_exit:
                cc.ctx.out("Aborting on container exit...")
                break
    except KeyboardInterrupt:
        cc.ctx.out("Gracefully stopping... (press Ctrl+C again to force)")
    svc.stop(names, o.timeout)
    if o.exit_code_from:
        for r in svc.containers([o.exit_code_from]):
            exit_code = cc.engine.containers.get(r["Id"])["State"]["ExitCode"]
    elif o.abort_on_container_exit and first is not None:
        exit_code = first[1]
    return exit_code


def _attached_services(project, names: list[str], o) -> list[str]:
    """`up --attach S` (repeatable): only those services' logs; otherwise every service
    started whose `attach:` is not false; then less `--no-attach S`. `up` then lasts as
    long as an attached container runs."""
    for s in [*o.attach, *o.no_attach]:
        project.service(s)
    chosen = list(o.attach) or [s for s in names if str(project.services[s].get("attach", True)).lower() != "false"]
    return [s for s in chosen if s not in o.no_attach]


def _exit_code_of(cc, svc, name, records, short) -> int:
    for r in records:
        if short[r["Id"]] == name:
            code = cc.engine.containers.monitor.exit_code(r["Id"])
            return code if code is not None else cc.engine.containers.get(r["Id"])["State"]["ExitCode"]
    return 0


def create(cc, o, args) -> int:
    from ..services.compose_types import UpOptions
    if o.force_recreate and o.no_recreate:
        raise InvalidArgument("--force-recreate and --no-recreate are incompatible")
    cc.service(args).up(UpOptions(services=list(args), build=_build_policy(o), pull=_pull_policy(o.pull),
                                  force_recreate=o.force_recreate, no_recreate=o.no_recreate,
                                  scale=_scale(o.scale), remove_orphans=o.remove_orphans, start=False))
    return 0


def start(cc, o, args) -> int:
    cc.service(args).start(list(args))
    return 0


def stop(cc, o, args) -> int:
    cc.service(args).stop(list(args), o.timeout)
    return 0


def restart(cc, o, args) -> int:
    svc = cc.service(args)
    names = list(args) if o.no_deps or not args else svc.project.restarted_with(list(args))
    svc.restart(names, o.timeout)
    return 0


def kill(cc, o, args) -> int:
    svc = cc.service(args)
    if o.remove_orphans:
        svc.handle_orphans(True)
    svc.kill(list(args), o.signal or "SIGKILL")
    return 0


def pause(cc, o, args) -> int:
    cc.service(args).pause(list(args))
    return 0


def unpause(cc, o, args) -> int:
    cc.service(args).unpause(list(args))
    return 0


def rm(cc, o, args) -> int:
    svc = cc.service(args)
    if o.stop:
        svc.stop(list(args))
    stopped = svc.stopped(list(args))
    if not stopped:
        cc.ctx.err("No stopped containers")
        return 0
    if not o.force:
        names = ", ".join(r["Name"].lstrip("/") for r in stopped)
        from .render import confirm
        if not confirm(cc.ctx, f"Going to remove {names}"):
            return 0
    svc.remove(stopped, force=True, volumes=o.volumes)
    return 0


def down(cc, o, args) -> int:
    svc = cc.service()
    if not svc.down(list(args), remove_orphans=o.remove_orphans, volumes=o.volumes, rmi=o.rmi, timeout=o.timeout):
        cc.warn(f'Warning: No resource found to remove for project "{svc.project.name}".')
    return 0


# ---- images ----
def build(cc, o, args) -> int:
    args_map = {}
    for item in o.build_arg:
        k, eq, v = item.partition("=")
        args_map[k] = v if eq else __import__("os").environ.get(k, "")
    svc = cc.service(args)
    svc.build(list(args), no_cache=o.no_cache, build_args=args_map,
              emit=(lambda line: None) if o.quiet else _emit_build(cc))
    return 0


def pull(cc, o, args) -> int:
    cc.service(args).pull(list(args), ignore_buildable=o.ignore_buildable)  # compose's plain output: events
    return 0


def push(cc, o, args) -> int:
    cc.service(args).push(list(args))
    return 0


def exec_(cc, o, args) -> int:
    from .exec import run_exec
    from .flags import Options
    svc = cc.service(args[:1])
    record = svc.container(args[0], o.index)
    if not record["State"]["Running"]:
        raise PalletError(f'service "{args[0]}" is not running')
    eo = Options(detach=o.detach, tty=not o.no_TTY and _isatty(cc.ctx.stdin), interactive=o.interactive
                 and not o.detach and _isatty(cc.ctx.stdin), env=list(o.env), env_file=[],
                 workdir=o.workdir, user=o.user, privileged=o.privileged, detach_keys=None)
    eo.given = set()
    return run_exec(cc.ctx, eo, [record["Id"], *args[1:]])


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def run(cc, o, args) -> int:
    from ..opts.env import env_options
    svc = cc.service(args[:1])
    service = args[0]
    overrides: dict = {}
    if len(args) > 1:
        overrides["cmd"] = args[1:]
    if o.entrypoint is not None:
        import shlex
        overrides["entrypoint"] = shlex.split(o.entrypoint)
        overrides.setdefault("cmd", [])
    if o.env:
        overrides["env"] = {e.partition("=")[0]: e.partition("=")[2] for e in env_options(o.env, [])}
    if o.workdir:
        overrides["workdir"] = o.workdir
    if o.user:
        overrides["user"] = o.user
    if o.label:
        overrides["labels"] = {lab.partition("=")[0]: lab.partition("=")[2] for lab in o.label}
    if o.publish:
        from .network_flags import publish
        overrides["ports"] = publish(o.publish)
    if o.volume:
        from .run_flags import _mounts
        from .flags import Options
        vo = Options(volume=list(o.volume), mount=[])
        overrides["mounts"] = _mounts(vo)
    overrides["rm"] = o.rm
    tty = not o.no_TTY and _isatty(cc.ctx.stdin)  # compose: a TTY when it has one to give
    stdin = o.interactive and not o.detach and _has_fd(cc.ctx.stdin)
    overrides.update(tty=tty, stdin_open=stdin)
    if o.build:
        svc.build([service])
    cid = svc.run_container(service, overrides, no_deps=o.no_deps, name=o.name, service_ports=o.service_ports)
    containers = cc.engine.containers
    if o.detach:
        containers.start(cid)
        cc.ctx.out(containers.get(cid)["Name"].lstrip("/"))
        return 0
    return _run_attached(cc, svc, cid, tty, stdin, o.rm)


def _has_fd(stream) -> bool:
    try:
        stream.fileno()
        return True
    except (AttributeError, OSError, ValueError):
        return False


def _run_attached(cc, svc, cid: str, tty: bool, stdin: bool, remove: bool) -> int:
    """`run` in the foreground, as `pallet run -it` is: the terminal raw, stdin relayed."""
    out = getattr(cc.ctx.stdout, "buffer", cc.ctx.stdout)
    err = getattr(cc.ctx.stderr, "buffer", cc.ctx.stderr)
    inp = getattr(cc.ctx.stdin, "buffer", cc.ctx.stdin) if stdin else None
    with _raw_terminal(cc.ctx.stdin if tty else None):
        return svc.run_foreground(cid, out, err, inp, remove)


class _raw_terminal:
    """The CLI's own terminal in raw mode while a `run` with a TTY is attached (keys go to the
    container as typed); restored on the way out."""

    def __init__(self, stream):
        self.fd = stream.fileno() if stream is not None and _isatty(stream) else None

    def __enter__(self):
        if self.fd is not None:
            import termios
            import tty
            self.saved = termios.tcgetattr(self.fd)
            tty.setraw(self.fd)
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            import termios
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
        return False


def cp(cc, o, args) -> int:
    cc.service().copy(args[0], args[1], index=o.index, archive=o.archive, follow=o.follow_link)
    return 0


def wait(cc, o, args) -> int:
    svc = cc.service(args)
    code = 0
    for record in svc.containers(list(args)):
        code = cc.engine.containers.wait(record["Id"])
        if o.down_project:
            svc.down()
            break
    return code


def version(cc, o, args) -> int:
    from ..services.compose_types import COMPOSE_VERSION as VERSION
    if o.short:
        cc.ctx.out(VERSION)
    elif o.format == "json":
        cc.ctx.out('{"version":"v%s"}' % VERSION)
    else:
        cc.ctx.out(f"pallet compose version v{VERSION}")
    return 0


S = "[SERVICE...]"
VERBS = [
    Command("build", "[OPTIONS] [SERVICE...]", "Build or rebuild services", build, [
        F("build-arg", kind="list", help="Set build-time variables for services"),
        F("no-cache", help="Do not use cache when building the image"),
        F("pull", help="Always attempt to pull a newer version of the image"),
        F("quiet", "q", help="Don't print anything to STDOUT")]),
    Command("config", "[OPTIONS] [SERVICE...]", "Parse, resolve and render compose file in canonical format",
            config, [
                F("format", kind="str", help='Format the output. Values: [yaml | json]'),
                F("services", help="Print the service names, one per line"),
                F("volumes", help="Print the volume names, one per line"),
                F("profiles", help="Print the profile names, one per line"),
                F("images", help="Print the image names, one per line"),
                F("hash", kind="str", help="Print the service config hash, one per line"),
                F("quiet", "q", help="Only validate the configuration, don't print anything"),
                F("output", "o", kind="str", help="Save to file (default to stdout)"),
                F("no-interpolate", help="Don't interpolate environment variables"),
                F("resolve-image-digests", help="Pin image tags to digests")]),
    Command("cp", "[OPTIONS] SERVICE:SRC_PATH DEST_PATH|- | SRC_PATH|- SERVICE:DEST_PATH",
            "Copy files/folders between a service container and the local filesystem", cp, [
                F("archive", "a", help="Archive mode (copy all uid/gid information)"),
                F("follow-link", "L", help="Always follow symbol link in SRC_PATH"),
                F("index", kind="int", default=1, help="Index of the container if service has multiple replicas")],
            2, 2),
    Command("create", "[OPTIONS] [SERVICE...]", "Creates containers for a service", create, [
        F("build", help="Build images before starting containers"),
        F("no-attach", kind="list", help="Do not attach (stream logs) to the specified services"),
        F("no-build", help="Don't build an image, even if it's policy"),
        F("force-recreate", help="Recreate containers even if their configuration and image haven't changed"),
        F("no-recreate", help="If containers already exist, don't recreate them"),
        F("pull", kind="str", help='Pull image before running ("always"|"missing"|"never"|"build")'),
        F("remove-orphans", help="Remove containers for services not defined in the Compose file"),
        F("scale", kind="list", help="Scale SERVICE to NUM instances")]),
    Command("down", "[OPTIONS] [SERVICES]", "Stop and remove containers, networks", down, [
        F("remove-orphans", help="Remove containers for services not defined in the Compose file"),
        F("rmi", kind="str", help='Remove images used by services. "local" remove only images that don\'t '
          'have a custom tag ("local"|"all")'),
        TIMEOUT, F("volumes", "v", help="Remove named volumes declared in the \"volumes\" section of the "
                   "Compose file and anonymous volumes attached to containers")]),
    Command("exec", "[OPTIONS] SERVICE COMMAND [ARGS...]", "Execute a command in a running container", exec_, [
        F("detach", "d", help="Detached mode: Run command in the background"),
        F("env", "e", kind="list", help="Set environment variables"),
        F("index", kind="int", default=1, help="Index of the container if service has multiple replicas"),
        F("interactive", "i", kind="bool", default=True, help="Keep STDIN open even if not attached"),
        F("no-TTY", "T", help="Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY"),
        F("privileged", help="Give extended privileges to the process"),
        F("user", "u", kind="str", help="Run the command as this user"),
        F("workdir", "w", kind="str", help="Path to workdir directory for this command")], 2,
        interspersed=False),
    Command("images", "[OPTIONS] [SERVICE...]", "List images used by the created containers", images, [
        F("format", kind="str", help="Format the output. Values: [table | json]"),
        F("quiet", "q", help="Only display IDs")]),
    Command("kill", "[OPTIONS] [SERVICE...]", "Force stop service containers", kill, [
        F("remove-orphans", help="Remove containers for services not defined in the Compose file"),
        F("signal", "s", kind="str", default="SIGKILL", help="SIGNAL to send to the container")]),
    Command("logs", "[OPTIONS] [SERVICE...]", "View output from containers", logs, [
        F("follow", "f", help="Follow log output"),
        F("index", kind="int", default=0, help="index of the container if service has multiple replicas"),
        F("no-color", help="Produce monochrome output"),
        F("no-log-prefix", help="Don't print prefix in logs"),
        F("since", kind="str", help="Show logs since timestamp"),
        F("tail", "n", kind="str", default="all", help="Number of lines to show from the end of the logs"),
        F("timestamps", "t", help="Show timestamps"),
        F("until", kind="str", help="Show logs before a timestamp")]),
    Command("ls", "[OPTIONS]", "List running compose projects", ls, [
        F("all", "a", help="Show all stopped Compose projects"),
        F("filter", kind="list", help="Filter output based on conditions provided"),
        F("format", kind="str", help="Format the output. Values: [table | json]"),
        F("quiet", "q", help="Only display project names")], 0, 0),
    Command("pause", S, "Pause services", pause, []),
    Command("port", "[OPTIONS] SERVICE PRIVATE_PORT", "Print the public port for a port binding", port, [
        F("index", kind="int", default=1, help="Index of the container if service has multiple replicas"),
        F("protocol", kind="str", default="tcp", help="tcp or udp")], 2, 2),
    Command("ps", "[OPTIONS] [SERVICE...]", "List containers", ps, [
        F("all", "a", help="Show all stopped containers (including those created by the run command)"),
        F("filter", kind="list", help="Filter services by a property (supported filters: status)"),
        F("format", kind="str", help="Format output using a custom template"),
        F("no-trunc", help="Don't truncate output"),
        F("orphans", kind="bool", default=True, help="Include orphaned services (not declared by project)"),
        F("quiet", "q", help="Only display IDs"),
        F("services", help="Display services"),
        F("status", kind="list", help="Filter services by status")]),
    Command("pull", "[OPTIONS] [SERVICE...]", "Pull service images", pull, [
        F("ignore-buildable", help="Ignore images that can be built"),
        F("ignore-pull-failures", help="Pull what it can and ignores images with pull failures"),
        F("quiet", "q", help="Pull without printing progress information")]),
    Command("push", "[OPTIONS] [SERVICE...]", "Push service images", push, [
        F("ignore-push-failures", help="Push what it can and ignores images with push failures"),
        F("quiet", "q", help="Push without printing progress information")]),
    Command("restart", "[OPTIONS] [SERVICE...]", "Restart service containers", restart, [
        F("no-deps", help="Don't restart dependent services"), TIMEOUT]),
    Command("rm", "[OPTIONS] [SERVICE...]", "Removes stopped service containers", rm, [
        F("force", "f", help="Don't ask to confirm removal"),
        F("stop", "s", help="Stop the containers, if required, before removing"),
        F("volumes", "v", help="Remove any anonymous volumes attached to containers")]),
    Command("run", "[OPTIONS] SERVICE [COMMAND] [ARGS...]", "Run a one-off command on a service", run, [
        F("build", help="Build image before starting container"),
        F("detach", "d", help="Run container in background and print container ID"),
        F("entrypoint", kind="str", help="Override the entrypoint of the image"),
        F("env", "e", kind="list", help="Set environment variables"),
        F("interactive", "i", kind="bool", default=True, help="Keep STDIN open even if not attached"),
        F("label", "l", kind="list", help="Add or override a label"),
        F("name", kind="str", help="Assign a name to the container"),
        F("no-TTY", "T", help="Disable pseudo-TTY allocation (default: auto-detected)"),
        F("no-deps", help="Don't start linked services"),
        F("publish", "p", kind="list", help="Publish a container's port(s) to the host"),
        F("pull", kind="str", help='Pull image before running ("always"|"missing"|"never")'),
        F("rm", help="Automatically remove the container when it exits"),
        F("service-ports", "P", help="Run command with all service's ports enabled and mapped to the host"),
        F("user", "u", kind="str", help="Run as specified username or uid"),
        F("volume", "v", kind="list", help="Bind mount a volume"),
        F("workdir", "w", kind="str", help="Working directory inside the container")], 1, interspersed=False),
    Command("start", S, "Start services", start, []),
    Command("stop", "[OPTIONS] [SERVICE...]", "Stop services", stop, [TIMEOUT]),
    Command("top", S, "Display the running processes", top, []),
    Command("unpause", S, "Unpause services", unpause, []),
    Command("up", "[OPTIONS] [SERVICE...]", "Create and start containers", up, [
        F("abort-on-container-exit", help="Stops all containers if any container was stopped"),
        F("attach", kind="list", help="Restrict attaching to the specified services"),
        F("build", help="Build images before starting containers"),
        F("detach", "d", help="Detached mode: Run containers in the background"),
        F("exit-code-from", kind="str", help="Return the exit code of the selected service container"),
        F("force-recreate", help="Recreate containers even if their configuration and image haven't changed"),
        F("no-attach", kind="list", help="Do not attach (stream logs) to the specified services"),
        F("no-build", help="Don't build an image, even if it's policy"),
        F("no-color", help="Produce monochrome output"),
        F("no-deps", help="Don't start linked services"),
        F("no-log-prefix", help="Don't print prefix in logs"),
        F("no-recreate", help="If containers already exist, don't recreate them"),
        F("no-start", help="Don't start the services after creating them"),
        F("pull", kind="str", help='Pull image before running ("always"|"missing"|"never")'),
        F("quiet-pull", help="Pull without printing progress information"),
        F("remove-orphans", help="Remove containers for services not defined in the Compose file"),
        F("scale", kind="list", help="Scale SERVICE to NUM instances. Overrides the scale setting in the "
          "Compose file if present"),
        TIMEOUT,
        F("timestamps", help="Show timestamps"),
        F("wait", help="Wait for services to be running|healthy. Implies detached mode"),
        F("wait-timeout", kind="int", default=0, help="Maximum duration in seconds to wait for the project "
          "to be running|healthy")]),
    Command("version", "[OPTIONS]", "Show the Docker Compose version information", version, [
        F("format", "f", kind="str", help='Format the output. Values: [pretty | json]'),
        F("short", help="Shows only Compose's version number")], 0, 0),
    Command("wait", "SERVICE [SERVICE...] [OPTIONS]", "Block until containers of all (or specified) services stop.",
            wait, [F("down-project", help="Drops project when the first container stops")], 1),
]
