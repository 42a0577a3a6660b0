"""ComposeService: docker compose v2's verbs over one loaded project.

Owns the use cases the CLI (and an API) call: up/create/start (pallet.compose.converge),
down/stop/rm/kill/pause/unpause/restart, build/pull/push, run's one-off container, watch
(pallet.compose.watch),
and the queries (ps rows, images, ports, the container behind `--index`). It drives
`engine.containers`, `engine.images`, `engine.builds`, the registry, network and
volume services through their public methods, and never imports pallet.cli.
Progress leaves through `event(resource, status)`; build and pull output through
the streams the caller gives.
"""
from __future__ import annotations

import io
import os

from ..errors import InvalidArgument, NotFound, PalletError
from . import converge, state
from .plan import P


def open_project(engine, options, services=(), **hooks) -> "ComposeService":
    """The use cases of the project `options` name (pallet.services.compose_types.ProjectOptions).
    With `-p NAME` and no Compose file to be found, the project as its labels describe it
    (docker compose does the same for down, ps, logs...)."""
    from .loader import load
    warn = hooks.get("warn") or (lambda text: None)
    try:
        project = load(options, list(services), warn)
    except NotFound as exc:
        if not (options.project_name and not options.files and str(exc).startswith("no configuration file")):
            raise
        from .project import check_project_name
        project = state.project_from_labels(engine, check_project_name(options.project_name))
    return ComposeService(engine, project, **hooks)


class ComposeService:
    def __init__(self, engine, project, event=lambda resource, status: None, warn=lambda text: None,
                 build_output=None):
        self.engine, self.project = engine, project
        self.event, self.warn = event, warn
        self.build_output = build_output  # where a build's steps go (None: nowhere)

    @property
    def networks(self):
        return self.engine.networks

    # ---- images ----
    def image_id(self, service: str) -> str:
        return self.engine.images.resolve(self.project.image_name(service))

    def ensure_images(self, names: list[str], build: str | None, pull: str | None, progress=None,
                      emit=None) -> None:
        """Build or pull what each service needs: `--build`/`--no-build` and `--pull` first, then
        the service's own `pull_policy` (`build` always builds), then "missing"."""
        images = self.engine.images
        for service in names:
            svc = self.project.services[service]
            image = self.project.image_name(service)
            present = images.exists(image)
            policy = pull or svc.get("pull_policy") or "missing"
            building = build
            if policy == "build" and svc.get("build") is not None and build != "never":
                building = "always"
            pulling = policy if policy in ("always", "never", "missing") else "missing"
            if svc.get("build") is not None and building != "never" and (building == "always" or not present):
                self.build([service], emit=emit)
                continue
            if pulling == "always" or (not present and pulling != "never"):
                if svc.get("build") is not None and building == "never" and not present:
                    raise NotFound(f"No such image: {image}")
                self.pull([service], progress=progress)
            elif not present:
                raise NotFound(f"No such image: {image}")

    def build(self, services: list[str], *, no_cache: bool = False, build_args: dict | None = None,
              emit=None) -> list[str]:
        from ..services.builds import BuildSource
        built = []
        for service in self.project.ordered(services or None):
            spec = self.project.services[service].get("build")
            if spec is None:
                continue
            image = self.project.image_name(service)
            context = spec["context"]
            if "dockerfile_inline" in spec:  # as `build -f - CONTEXT` with the text on stdin
                source = BuildSource(context, "-", io.BytesIO(spec["dockerfile_inline"].encode()))
            else:
                source = BuildSource(context, os.path.join(context, spec.get("dockerfile", "Dockerfile")))
            self.event(f"Service {service}", "Building")
            args = {k: v for k, v in (spec.get("args") or {}).items() if v is not None}
            args.update(build_args or {})
            self.engine.builds.build(
                source,
                emit or self.build_output or (lambda line: None), None,  # classic lines, no RUN output
                tags=[image, *(spec.get("tags") or [])], build_args=args, target=spec.get("target"),
                no_cache=no_cache or bool(spec.get("no_cache")), labels=spec.get("labels") or {},
                network=spec.get("network"), secrets=self._build_secrets(spec),
                cache_from=spec.get("cache_from") or [])
            self.event(f"Service {service}", "Built")
            built.append(image)
        return built

    def _build_secrets(self, spec: dict) -> dict:
        out = {}
        for ref in spec.get("secrets") or []:
            top = self.project.secrets.get(ref["source"]) or {}
            if top.get("file"):
                out[ref.get("target") or ref["source"]] = top["file"]
            elif top.get("environment"):
                out[ref.get("target") or ref["source"]] = os.environ.get(top["environment"], "").encode()
        return out

    def pull(self, services: list[str], progress=None, ignore_buildable: bool = False) -> None:
        registry = self.engine.registry
        for service in self.project.ordered(services or None):
            svc = self.project.services[service]
            if not svc.get("image") or (ignore_buildable and svc.get("build") is not None):
                continue
            self.event(f"Image {svc['image']}", "Pulling")
            registry.pull(svc["image"], progress or _SilentProgress())
            self.event(f"Image {svc['image']}", "Pulled")

    def push(self, services: list[str], progress=None) -> None:
        registry = self.engine.registry
        for service in self.project.ordered(services or None):
            svc = self.project.services[service]
            if svc.get("build") is None or not svc.get("image"):
                continue
            self.event(f"Image {svc['image']}", "Pushing")
            registry.push(svc["image"], progress or _SilentProgress())
            self.event(f"Image {svc['image']}", "Pushed")

    # ---- containers ----
    def containers(self, services=None, *, oneoff: bool | None = False, running_only: bool = False) -> list[dict]:
        found = state.containers(self.engine, self.project.name, oneoff=oneoff, services=services or None)
        return [r for r in found if state.running(r)] if running_only else found

    def first_container(self, service: str) -> str:
        found = self.containers([service])
        if not found:
            raise NotFound(f'service "{service}" has no container')
        return state.name_of(found[0])

    def container(self, service: str, index: int = 1) -> dict:
        """The container `exec`/`cp`/`port --index` mean: replica `index` of `service`."""
        self.project.service(service)
        for record in self.containers([service]):
            if state.number_of(record) == index:
                return record
        raise NotFound(f'service "{service}" is not running' if index == 1 else
                       f'service "{service}" has no container with index {index}')

    def orphans(self) -> list[dict]:
        known = set(self.project.services) | set(self.project.disabled)
        return [r for r in self.containers(oneoff=None) if state.service_of(r) not in known]

    def handle_orphans(self, remove: bool) -> None:
        found = self.orphans()
        if not found:
            return
        if remove:
            for record in found:
                self._remove(record, force=True)
            return
        names = ", ".join(state.name_of(r) for r in found)
        self.warn(f"Found orphan containers ([{names}]) for this project. If you removed or renamed this "
                  "service in your compose file, you can run this command with the --remove-orphans flag "
                  "to clean it up.")

    def up(self, opts: converge.UpOptions) -> list[str]:
        names = converge.create(self, opts)
        if opts.start:
            converge.start(self, names)
        return names

    def start(self, services: list[str]) -> None:
        names = [s for s in self.project.ordered(services or None)]
        if not self.containers(names):
            raise NotFound("service(s) not found" if services else "no containers to start")
        converge.start(self, names)

    def stop(self, services: list[str], timeout: int | None = None, *, oneoff: bool | None = False) -> None:
        self._stop_records(self.containers(services, oneoff=oneoff), timeout)

    def _stop_records(self, records: list[dict], timeout: int | None) -> None:
        """Stop running containers, dependents before their dependencies; the containers of one
        level together (one timeout for all of them, as compose stops them in parallel)."""
        running = [r for r in records if state.running(r)]
        levels = self.project.levels(list(self.project.services))
        rank = {s: i for i, level in enumerate(levels) for s in level}
        groups: dict[int, list[dict]] = {}
        for r in running:
            groups.setdefault(rank.get(state.service_of(r), len(levels)), []).append(r)
        for key in sorted(groups, reverse=True):
            group = groups[key]
            for r in group:
                self.event(f"Container {state.name_of(r)}", "Stopping")
            self.engine.containers.stop_many([r["Id"] for r in group], timeout)
            for r in group:
                self.event(f"Container {state.name_of(r)}", "Stopped")

    def _timeout(self, record: dict, timeout: int | None) -> int | None:
        return timeout if timeout is not None else record["Config"].get("StopTimeout")

    def _reverse(self, records: list[dict]) -> list[dict]:
        """Dependents before their dependencies, as compose stops and removes them."""
        order = {s: i for i, s in enumerate(self.project.ordered())}
        return sorted(records, key=lambda r: (-order.get(state.service_of(r), -1), state.name_of(r)))

    def restart(self, services: list[str], timeout: int | None = None) -> None:
        """Each container restarted, services in dependency order."""
        order = {s: i for i, s in enumerate(self.project.ordered())}
        for record in sorted(self.containers(services), key=lambda r: order.get(state.service_of(r), -1)):
            name = state.name_of(record)
            self.event(f"Container {name}", "Restarting")
            self.engine.containers.restart(record["Id"], self._timeout(record, timeout))
            self.event(f"Container {name}", "Started")

    def kill(self, services: list[str], signal: str = "SIGKILL") -> None:
        running = self.containers(services, running_only=True)
        if not running:
            raise NotFound("no container to kill")
        for record in running:
            name = state.name_of(record)
            self.event(f"Container {name}", "Killing")
            self.engine.containers.kill(record["Id"], signal)
            if signal.upper().removeprefix("SIG") in ("KILL", "9"):
                self.engine.containers.wait(record["Id"])  # as dockerd's kill waits for a SIGKILL
            self.event(f"Container {name}", "Killed")

    def pause(self, services: list[str]) -> None:
        for record in self.containers(services, running_only=True):
            self.engine.containers.pause(record["Id"])
            self.event(f"Container {state.name_of(record)}", "Paused")

    def unpause(self, services: list[str]) -> None:
        for record in self.containers(services):
            if record["State"].get("Paused"):
                self.engine.containers.unpause(record["Id"])
                self.event(f"Container {state.name_of(record)}", "Unpaused")

    def stopped(self, services: list[str]) -> list[dict]:
        return [r for r in self.containers(services, oneoff=None) if not state.running(r)]

    def remove(self, records: list[dict], *, force: bool = False, volumes: bool = False) -> None:
        for record in records:
            self._remove(record, force=force, volumes=volumes)

    def _remove(self, record: dict, *, force: bool = True, volumes: bool = False, stop: bool = True) -> None:
        name = state.name_of(record)
        if state.running(record) and force and stop:
            self._stop_records([record], None)
        self.event(f"Container {name}", "Removing")
        self.engine.containers.remove(record["Id"], force=force, volumes=volumes)
        self.event(f"Container {name}", "Removed")

    def down(self, services: list[str] = (), *, remove_orphans: bool = False, volumes: bool = False,
             rmi: str | None = None, timeout: int | None = None) -> bool:
        """compose's down: the project's containers (one-off `run` ones and orphans only with
        --remove-orphans), dependents first; then its networks, with -v its volumes, with --rmi
        its images. False if nothing was there to remove. Named services: only their containers."""
        from . import resources
        if rmi not in (None, "", "local", "all"):
            raise InvalidArgument(f"invalid --rmi option {rmi!r}")
        known = set(self.project.services) | set(self.project.disabled)
        found = self.containers(oneoff=None if remove_orphans else False)
        records = [r for r in found if (remove_orphans or state.service_of(r) in known)
                   and (not services or state.service_of(r) in services)]
        records = self._reverse(records)
        self._stop_records(records, timeout)
        for record in records:
            self._remove(record, force=True, volumes=volumes, stop=False)
        removed = len(records)
        if services:
            return removed > 0
        removed += resources.remove_networks(self.engine, self.project, self.event)
        if volumes:
            removed += resources.remove_volumes(self.engine, self.project, self.event)
        if rmi:
            removed += self._remove_images(rmi)
        return removed > 0

    def _remove_images(self, rmi: str) -> int:
        removed = 0
        for service in self.project.ordered():
            svc = self.project.services[service]
            if rmi == "local" and svc.get("image"):
                continue  # --rmi local: only images without a custom tag (the ones compose named)
            image = self.project.image_name(service)
            if not self.engine.images.exists(image):
                continue
            self.event(f"Image {image}", "Removing")
            try:
                self.engine.images.remove(image)
            except PalletError as exc:
                self.warn(str(exc))
                continue
            self.event(f"Image {image}", "Removed")
            removed += 1
        return removed

    # ---- watching (pallet.compose.observe) ----
    def events(self, services=(), since: float | None = None, until: float | None = None, follow: bool = False):
        """`compose events`: the project's container events (observe.ProjectEvent), oldest first."""
        from . import observe
        for s in services:
            self.project.service(s)
        return observe.events(self.engine, self.project.name, services, since, until, follow=follow)

    def stats_targets(self, services=(), all_containers: bool = False) -> list[str]:
        from . import observe
        for s in services:
            self.project.service(s)
        return observe.stats_targets(self, services, all_containers)

    # ---- what the edges show of a container ----
    service_of = staticmethod(state.service_of)
    name_of = staticmethod(state.name_of)
    number_of = staticmethod(state.number_of)
    running = staticmethod(state.running)

    def state_of(self, record: dict) -> str:
        from ..dockerjson.columns import docker_status
        return docker_status(record)

    def ps_row(self, record: dict, trunc: bool = True) -> dict:
        """docker ps's row for the container, with compose's own fields (Name, Service,
        Project, Health, ExitCode, Publishers)."""
        from ..dockerjson.container import ps_row
        base = ps_row(record, trunc)
        ports = ((record.get("NetworkSettings") or {}).get("Ports") or {}) if record["State"]["Running"] else {}
        publishers = []
        for key, binds in sorted(ports.items()):
            port, _, proto = key.partition("/")
            for b in binds or [None]:
                publishers.append({"URL": b["HostIp"] if b else "", "TargetPort": int(port),
                                   "PublishedPort": int(b["HostPort"]) if b else 0, "Protocol": proto})
        base.update({"Name": base["Names"], "Service": state.service_of(record), "Project": self.project.name,
                     "Image": record["Config"].get("Image") or base["Image"],
                     "Health": (record["State"].get("Health") or {}).get("Status", ""),
                     "ExitCode": record["State"]["ExitCode"], "Publishers": publishers})
        return base

    def top(self, record: dict) -> tuple[list[str], list[list[str]]]:
        return self.engine.containers.top(record["Id"], [])

    def images(self, services: list[str]) -> list[dict]:
        """`images`: one row per container: its image's repository, tag, ID and size."""
        from ..services.images import split_name
        rows = []
        for r in self.containers(services, oneoff=None):
            tags = self.engine.images.repo_tags(r["Image"])
            repo, tag = split_name(tags[0]) if tags else ("<none>", "<none>")
            rows.append({"Container": state.name_of(r), "Repository": repo, "Tag": tag, "ID": r["Image"],
                         "Size": self.engine.images.inspect(r["Image"]).get("Size", 0)})
        return rows

    def logs(self, records: list[dict], *, follow: bool = False, tail: int | None = None, names=None,
             since=None, until=None):
        """(name, log record) of the containers, interleaved; (name, None) when one's log ends."""
        from . import logs
        return logs.stream(self.engine, records, follow=follow, tail=tail, names=names, since=since, until=until)

    def start_services(self, names: list[str]) -> None:
        converge.start(self, names)

    def wait_running(self, names: list[str], timeout: float | None = None) -> None:
        converge.wait_running(self, names, timeout)

    def watch(self, options, log) -> None:
        """`watch` (pallet.services.compose_types.WatchOptions): up, then the `develop.watch`
        rules applied to every batch of file changes, until a signal (KeyboardInterrupt);
        compose's messages go to `log`."""
        from . import watch
        watch.run(self, options, log, self.warn)

    def copy(self, src: str, dst: str, *, index: int = 1, archive: bool = False, follow: bool = False) -> None:
        """`cp SERVICE:PATH DEST` or `cp SRC SERVICE:PATH`, in replica `index`'s container."""
        def side(arg: str):
            if arg.startswith(("/", ".")) or ":" not in arg:
                return None, arg
            service, _, path = arg.partition(":")
            return self.container(service, index)["Id"], path
        (src_ctr, src_path), (dst_ctr, dst_path) = side(src), side(dst)
        if (src_ctr is None) == (dst_ctr is None):
            raise InvalidArgument("copying between services or between local paths is not supported")
        fs = self.engine.container_fs
        if src_ctr:
            fs.copy_out(src_ctr, src_path, dst_path, archive=archive, follow=follow)
        else:
            fs.copy_in(dst_ctr, src_path, dst_path, archive=archive, follow=follow)

    def run_foreground(self, cid: str, stdout, stderr, stdin=None, remove: bool = False) -> int:
        """Start `run`'s container attached to these streams, wait for it, remove it with --rm;
        its exit code."""
        containers = self.engine.containers
        with containers.foreground(cid):
            try:
                containers.start(cid, attach_to=lambda attachment: attachment.relay(stdout, stderr, stdin))
                return containers.wait(cid)
            finally:
                if remove:
                    try:
                        containers.remove(cid, force=True)
                    except NotFound:
                        pass

    # ---- one-off containers (`run`) ----
    def run_container(self, service: str, overrides: dict, *, no_deps: bool = False, name: str | None = None,
                      service_ports: bool = False) -> str:
        """Create `run`'s one-off container (dependencies up first, unless no_deps); its ID."""
        from . import plan
        self.project.service(service)
        if not no_deps:
            deps = [d for d in self.project.with_dependencies([service]) if d != service]
            if deps:
                self.up(converge.UpOptions(services=deps))
                converge.wait_dependencies(self, service)
        self.ensure_images([service], None, "missing")
        from . import resources
        resources.ensure_networks(self.engine, self.project, resources.used_networks(self.project, [service]),
                                  self.event)
        resources.ensure_volumes(self.engine, self.project, resources.used_volumes(self.project, [service]),
                                 self.event)
        if not service_ports and "ports" not in overrides:
            overrides["ports"] = []
        cname = name or f"{self.project.name}-{service}-run-{os.urandom(6).hex()}"
        req = plan.create_request(self.project, service, 1, container_of=self.first_container, oneoff=True,
                                  name=cname, overrides=overrides)
        req.labels[P + "image"] = self.image_id(service)
        return converge.create_container(self, service, req)


class _SilentProgress:
    def line(self, text: str) -> None:
        pass

    def layer(self, *args, **kw) -> None:
        pass

    def advance(self, *args, **kw) -> None:
        pass

    def __getattr__(self, name):
        return lambda *a, **k: None
