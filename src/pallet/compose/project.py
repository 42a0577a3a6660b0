"""A loaded Compose project: its services, resources, names and dependency graph.

Owns what docker compose derives from the model: the resource names
(`<project>-<service>-<n>` containers, `<project>_<key>` networks and volumes
unless `name:` says otherwise), the dependency order (with cycle detection), the
set of services an operation concerns (named ones plus their dependencies), and
each service's config hash (sha256 of its canonical JSON without build, pull_policy,
scale, replicas, depends_on and profiles, as compose's ServiceHash leaves them out).
Pure.

The `com.docker.compose.config-hash` label is compose's rule, not compose's bytes.
docker compose v2's ServiceHash (pkg/compose/hash.go) is sha256 of Go's `json.Marshal`
of compose-go's `types.ServiceConfig` after it clears Build, PullPolicy, Scale,
Deploy.Replicas, DependsOn and Profiles. Byte-identical hashes would need pallet to
re-create that one Go value exactly, for one pinned compose-go release:
- fields in the struct's declaration order (`profiles`, `annotations`, `attach`, ...,
  `command`, `configs`, ..., `entrypoint`, `provider`, `environment`, ...), not sorted;
  `command` and `entrypoint` are not omitempty (`"command":null` when unset), every
  other zero value is omitted, and `name` and `x-*` extensions are `json:"-"`;
- each field's own marshaller: UnitBytes as integer bytes (`mem_limit: 1g`), Duration
  as Go's `time.Duration` string (`1m30s`), float32 `cpus`, environment values as
  `*string` (null when only a name is given), ports and volumes in compose-go's long
  forms with its defaults (`protocol`, `mode: ingress`, `bind.create_host_path`);
- compose-go's load-time normalisation: env_file contents folded into `environment`,
  the implicit `networks: {default: null}`, resolved absolute paths, image names for
  built services;
- and the struct moves between releases (`develop`, `provider`, `models`,
  `use_api_socket`, `post_start`/`pre_stop`, `label_file` came in 2.x; earlier compose v2
  releases also hashed depends_on and profiles and appended inline `configs` content), so
  docker compose's own hash changes across its upgrades.
pallet hashes its own canonical model (sorted keys, compact JSON) under the same rule,
which is stable across pallet versions. Consequence: a project made by one tool is
found, listed, logged and taken down by the other through the other labels, and the
first `up` of the other tool recreates each container once (as a compose upgrade does).
"""
from __future__ import annotations

from ..errors import InvalidArgument, NotFound
from ..record import dataclass, field

from ..services.compose_types import COMPOSE_VERSION as VERSION  # noqa: F401 - the labels' version


@dataclass
class Project:
    name: str
    working_dir: str
    config_files: list[str]
    services: dict = field(default_factory=dict)
    networks: dict = field(default_factory=dict)
    volumes: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)
    configs: dict = field(default_factory=dict)
    extensions: dict = field(default_factory=dict)
    disabled: dict = field(default_factory=dict)   # services left out by profiles
    # secrets/configs with `environment:`, by "secrets.KEY": the variable's value at load
    # time (None: unset), written into the containers that use them (never in `config`)
    values: dict = field(default_factory=dict)

    def service(self, name: str) -> dict:
        if name in self.services:
            return self.services[name]
        if name in self.disabled:
            raise InvalidArgument(f'service "{name}" is not enabled by the active profiles')
        raise NotFound(f"no such service: {name}")

    def container_name(self, service: str, number: int) -> str:
        return self.services[service].get("container_name") or f"{self.name}-{service}-{number}"

    def network_name(self, key: str) -> str:
        return self.networks[key]["name"]

    def volume_name(self, key: str) -> str:
        return self.volumes[key]["name"]

    def replicas(self, service: str) -> int:
        svc = self.services[service]
        if "scale" in svc:
            return svc["scale"]
        return (svc.get("deploy") or {}).get("replicas", 1)

    def image_name(self, service: str) -> str:
        svc = self.services[service]
        return svc.get("image") or f"{self.name}-{service}"

    def document(self) -> dict:
        return document(self)

    def config_hash(self, service: str) -> str:
        return config_hash(self.service(service))

    def profiles(self) -> list[str]:
        names = {p for s in list(self.services.values()) + list(self.disabled.values())
                 for p in s.get("profiles") or []}
        return sorted(names)

    # ---- the dependency graph ----
    def dependencies(self, service: str) -> list[str]:
        return [d for d in (self.services[service].get("depends_on") or {}) if d in self.services]

    def with_dependencies(self, names: list[str]) -> list[str]:
        """`names` and what they depend on, transitively (all services when none named)."""
        if not names:
            return list(self.services)
        out, todo = [], list(names)
        while todo:
            name = todo.pop()
            self.service(name)
            if name not in out:
                out.append(name)
                todo += self.dependencies(name)
        return out

    def ordered(self, names: list[str] | None = None) -> list[str]:
        """Services in dependency order (dependencies first), `names` only when given."""
        wanted = set(names if names is not None else self.services)
        order = [s for s in topological(self) if s in wanted]
        return order

    def levels(self, names: list[str]) -> list[list[str]]:
        """Services grouped so that each group depends only on earlier groups."""
        wanted, done, out = set(names), set(), []
        while wanted - done:
            level = sorted(s for s in wanted - done if set(self.dependencies(s)) & wanted <= done)
            if not level:
                raise InvalidArgument("dependency cycle detected")
            out.append(level)
            done |= set(level)
        return out

    def dependents(self, service: str) -> list[str]:
        return [s for s in self.services if service in self.dependencies(s)]

    def restarted_with(self, names: list[str]) -> list[str]:
        """`restart NAMES`: those and, transitively, the services depending on them with
        `restart: true` (compose's other depends_on edges do not propagate a restart)."""
        out = list(names)
        grew = True
        while grew:
            grew = False
            for s, svc in self.services.items():
                if s not in out and any(d in out and spec.get("restart")
                                        for d, spec in (svc.get("depends_on") or {}).items()):
                    out.append(s)
                    grew = True
        return self.ordered(out)


def topological(project: Project) -> list[str]:
    state: dict[str, int] = {}
    order: list[str] = []

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = trail[trail.index(name):] + [name]
            raise InvalidArgument(f"dependency cycle detected: {' -> '.join(cycle)}")
        state[name] = 1
        for dep in sorted(project.dependencies(name)):
            visit(dep, trail + [name])
        state[name] = 2
        order.append(name)
    for name in sorted(project.services):
        visit(name, [])
    return order


_UNHASHED = ("build", "pull_policy", "scale", "depends_on", "profiles")


def config_hash(service: dict) -> str:
    """compose's ServiceHash: what, when it changes, makes `up` recreate the container."""
    doc = {k: v for k, v in service.items() if k not in _UNHASHED}
    if isinstance(doc.get("deploy"), dict):
        doc["deploy"] = {k: v for k, v in doc["deploy"].items() if k != "replicas"}
    from .. import jsontext
    from ..digest import _sha256
    return _sha256(jsontext.dumps(doc, sort_keys=True, compact=True).encode()).hexdigest()


def normalize_project_name(name: str) -> str:
    """compose-go's NormalizeProjectName: lower case, only [a-z0-9_-], starting alphanumeric."""
    name = "".join(c for c in name.lower() if c.isascii() and (c.isalnum() or c in "_-"))
    return name.lstrip("_-")


def check_project_name(name: str) -> str:
    if not name or normalize_project_name(name) != name:
        raise InvalidArgument(f'invalid project name "{name}": must consist only of lowercase alphanumeric '
                              "characters, hyphens, and underscores as well as start with a letter or number")
    return name


def document(project: Project) -> dict:
    """The project as `docker compose config` prints it: name, services, then resources."""
    # services and their keys sorted: compose-go marshals its structs, whose fields run in
    # (nearly) alphabetical order
    out: dict = {"name": project.name, "services": {
        n: {k: project.services[n][k] for k in sorted(project.services[n])} for n in sorted(project.services)}}
    for section in ("networks", "volumes", "secrets", "configs"):
        value = getattr(project, section)
        if value:
            out[section] = value
    out.update(project.extensions)
    return out
