"""Loading a Compose project as docker compose v2 does, from its global options.

Owns: which files (`-f`, repeatable, `-` for stdin; else `COMPOSE_FILE`; else
`compose.yaml`/`compose.yml`/`docker-compose.yml`/`docker-compose.yaml` found in
the current directory or a parent, plus its `*.override.*` sibling), the project
directory (`--project-directory`, else the first file's), the environment used for
interpolation (the OS environment over `--env-file`s, else over `<project dir>/.env`),
the project name (`-p`, `COMPOSE_PROJECT_NAME`, top-level `name:`, the directory's
name normalised), profiles (`--profile`, `COMPOSE_PROFILES`, services named on the
command line), and the pipeline each file goes through: YAML (anchors and merge
keys by PyYAML) -> interpolation -> schema validation -> `extends`/`include` ->
canonical forms -> merge. Then the merged model is finished: default network,
resource names, env_file and bare environment entries resolved, and every
reference (networks, volumes, secrets, configs, depends_on) checked.
Errors are one-line InvalidArgument/NotFound naming the file and path.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidArgument, NotFound
from ..services.compose_types import ProjectOptions  # noqa: F401 - the request load takes
from . import interpolation, merge, normalize  # noqa: F401 - pure, small; loaded with the loader
from .project import Project, check_project_name, normalize_project_name

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = ("compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
                  "docker-compose.override.yaml")


class _Loading:
    def __init__(self, opts: ProjectOptions, warn):
        self.opts, self.warn = opts, warn
        self.environ = dict(os.environ if opts.environ is None else opts.environ)
        self.cwd = opts.cwd or os.getcwd()
        self.warned: set[str] = set()
        self.inputs: list[str] = []       # every file read, and every variable looked up:
        self.looked_up: set[str] = set()  # what the cached project depends on
        self.warnings: list[str] = []

    def say(self, text: str) -> None:
        self.warnings.append(text)
        self.warn(text)

    def lookup(self, name: str):
        self.looked_up.add(name)
        return self.env.get(name)

    def unset(self, name: str) -> None:
        if name not in self.warned:
            self.warned.add(name)
            self.say(f'The "{name}" variable is not set. Defaulting to a blank string.')


def load(opts: ProjectOptions, services: list[str] = (), warn=lambda text: None) -> Project:
    from . import cache
    ld = _Loading(opts, warn)
    early_env = {**_dotenv(ld, opts.project_directory or ld.cwd, opts.env_files), **ld.environ}
    files = _config_files(ld, early_env)
    workdir = os.path.abspath(opts.project_directory) if opts.project_directory else (
        os.path.dirname(files[0]) if files[0] != "-" else ld.cwd)
    ld.env = {**_dotenv(ld, workdir, opts.env_files), **ld.environ}
    cache_dir = opts.cache_dir / "projects" if opts.cache_dir is not None and "-" not in files else None
    entry = cache.key({"files": files, "workdir": workdir, "name": opts.project_name, "i": opts.interpolate,
                       "profiles": opts.profiles, "env_files": opts.env_files, "services": sorted(services)})
    hit = cache.lookup(cache_dir, entry, ld.env)
    if hit is not None:
        for text in hit[1]:
            warn(text)
        return hit[0]
    project = _load(ld, files, workdir, services)
    used = {n: ld.env.get(n) for n in ld.looked_up | {"COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES"}}
    cache.store(cache_dir, entry, project, ld.inputs, ld.warnings, used)
    return project


def _load(ld: _Loading, files: list[str], workdir: str, services) -> Project:
    opts = ld.opts
    model: dict = {}
    for path in files:
        tree = _read_tree(ld, path, workdir)
        model = merge.merge_files(model, tree)
    name = _project_name(ld, model, workdir)
    project = Project(name=name, working_dir=workdir, config_files=files,
                      extensions={k: v for k, v in model.items() if k.startswith("x-")})
    profiles = list(opts.profiles) or [p for p in (ld.env.get("COMPOSE_PROFILES") or "").split(",") if p]
    _finish(ld, project, model, profiles, list(services))
    return project


# ---- files ----
def _config_files(ld: _Loading, env: dict) -> list[str]:
    if ld.opts.files:
        return [f if f == "-" else os.path.abspath(os.path.join(ld.cwd, f)) for f in ld.opts.files]
    if env.get("COMPOSE_FILE"):
        sep = env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        base = ld.opts.project_directory or ld.cwd
        return [os.path.abspath(os.path.join(base, f)) for f in env["COMPOSE_FILE"].split(sep) if f]
    directory = Path(ld.opts.project_directory or ld.cwd).resolve()
    for d in [directory, *directory.parents]:
        found = [d / n for n in DEFAULT_FILES if (d / n).is_file()]
        if found:
            if len(found) > 1:
                ld.say(f"Found multiple config files with supported names: {', '.join(map(str, found))}")
                ld.say(f"Using {found[0]}")
            override = next((d / n for n in OVERRIDE_FILES if (d / n).is_file()), None)
            return [str(found[0])] + ([str(override)] if override else [])
    raise NotFound("no configuration file provided: not found")


def _dotenv(ld: _Loading, directory: str, env_files: list[str]) -> dict:
    from . import envfile
    if env_files:
        out = {}
        for f in env_files:
            path = os.path.abspath(os.path.join(ld.cwd, f))
            if not os.path.isfile(path):
                raise NotFound(f"couldn't find env file: {path}")
            ld.inputs.append(path)
            out.update({k: v for k, v in envfile.read(path, ld.environ.get).items() if v is not None})
        return out
    path = os.path.join(directory, ".env")
    if not os.path.isfile(path):
        return {}
    ld.inputs.append(path)
    return {k: v for k, v in envfile.read(path, ld.environ.get).items() if v is not None}


def read_yaml(path: str, stdin=None):
    import yaml
    try:
        if path == "-":
            text = stdin.read()
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
    except FileNotFoundError:
        raise NotFound(f"open {path}: no such file or directory") from None
    except OSError as exc:
        raise InvalidArgument(f"open {path}: {exc.strerror}") from None
    try:
        tree = yaml.load(text, Loader=_strict_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidArgument(f"{path}: yaml: {where}{problem}") from None
    if tree is None:
        tree = {}
    if not isinstance(tree, dict):
        raise InvalidArgument(f"{path}: Top-level object must be a mapping")
    return tree


_LOADER = None


def _strict_loader():
    """PyYAML's safe loader (libyaml's parser when present) refusing a key given twice in one
    mapping, as compose-go's YAML decoder does; keys brought in by a merge key (`<<`) may be
    overridden, as YAML allows."""
    global _LOADER
    if _LOADER is None:
        import yaml
        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class StrictLoader(base):
            def construct_mapping(self, node, deep=False):
                seen: dict = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=True)
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f'mapping key "{key}" already defined at line {seen[key] + 1}',
                            key_node.start_mark)
                    seen[key] = key_node.start_mark.line
                return super().construct_mapping(node, deep)
        _LOADER = StrictLoader
    return _LOADER


def _read_tree(ld: _Loading, path: str, workdir: str, seen: tuple = ()) -> dict:
    from . import schema
    shown = "<stdin>" if path == "-" else path
    raw = read_yaml(path, ld.opts.stdin)
    ld.inputs.append(path)
    if ld.opts.interpolate:
        tree = _in_context(shown, lambda: interpolation.interpolate(raw, ld.lookup, ld.unset))
    else:
        tree = raw
    schema.validate(tree, shown, _valid_dir(ld))
    tree = _includes(ld, tree, path, workdir, seen)
    services = tree.get("services") or {}
    services = {n: _extended(ld, n, s, services, path, workdir, seen) for n, s in services.items()}
    tree["services"] = {n: _in_context(shown, lambda n=n, s=s: normalize.service(n, s, workdir))
                        for n, s in services.items()}
    return tree


def _in_context(shown: str, make):
    try:
        return make()
    except InvalidArgument as exc:
        raise InvalidArgument(f"{shown}: {exc}") from None


def _extended(ld, name: str, svc: dict, services: dict, path: str, workdir: str, seen: tuple) -> dict:
    """A service with `extends:` resolved: the base (same file or `file:`) merged under it."""
    ext = svc.get("extends")
    if not ext:
        return svc
    if isinstance(ext, str):
        ext = {"service": ext}
    key = (path, name)
    if key in seen:
        raise InvalidArgument(f"{path}: services.{name}.extends: circular reference")
    base_file = ext.get("file")
    if base_file:
        base_path = os.path.abspath(os.path.join(os.path.dirname(path) if path != "-" else workdir, base_file))
        base_tree = _read_plain(ld, base_path)
        base_services = base_tree.get("services") or {}
    else:
        base_path, base_services = path, services
    if ext["service"] not in base_services:
        raise InvalidArgument(f"{path}: services.{name}.extends: cannot extend service {ext['service']!r} "
                              f"in {base_path}: service not found")
    base = _extended(ld, ext["service"], base_services[ext["service"]], base_services, base_path, workdir,
                     seen + (key,))
    here = {k: v for k, v in svc.items() if k != "extends"}
    base = {k: v for k, v in base.items() if k not in ("depends_on",)}
    merged = merge.merge_service(normalize.service(name, base, workdir), normalize.service(name, here, workdir))
    return merged


def _read_plain(ld: _Loading, path: str) -> dict:
    from . import schema
    raw = read_yaml(path)
    tree = _in_context(path, lambda: interpolation.interpolate(raw, ld.lookup, ld.unset))
    ld.inputs.append(path)
    schema.validate(tree, path, _valid_dir(ld))
    return tree


def _includes(ld, tree: dict, path: str, workdir: str, seen: tuple) -> dict:
    """`include:` sub-projects: their resources join this one; a name defined twice is an error."""
    items = tree.pop("include", None) or []
    for i, item in enumerate(items):
        spec = {"path": item} if isinstance(item, str) else dict(item)
        paths = spec["path"] if isinstance(spec["path"], list) else [spec["path"]]
        base_dir = os.path.dirname(path) if path != "-" else workdir
        sub = {}
        for p in paths:
            sub_path = os.path.abspath(os.path.join(base_dir, p))
            if sub_path in seen:
                raise InvalidArgument(f"{path}: include[{i}]: include cycle through {sub_path}")
            sub_dir = os.path.abspath(os.path.join(base_dir, spec.get("project_directory")
                                                   or os.path.dirname(p) or "."))
            sub = merge.merge_files(sub, _read_tree(ld, sub_path, sub_dir, seen + (sub_path,)))
        for section in ("services", "networks", "volumes", "secrets", "configs"):
            for key, value in (sub.get(section) or {}).items():
                if key in (tree.get(section) or {}):
                    raise InvalidArgument(f"{path}: {section}.{key} conflicts with imported resource")
                tree.setdefault(section, {})[key] = value
    return tree


def _project_name(ld: _Loading, model: dict, workdir: str) -> str:
    if ld.opts.project_name:
        return check_project_name(ld.opts.project_name)
    if ld.env.get("COMPOSE_PROJECT_NAME"):  # (a cache key: see load)
        return check_project_name(ld.env["COMPOSE_PROJECT_NAME"])
    if model.get("name"):
        return check_project_name(str(model["name"]))
    name = normalize_project_name(os.path.basename(workdir.rstrip("/")) or "default")
    if not name:
        raise InvalidArgument(f'project name can\'t be empty: use "-p" to name the project of {workdir}')
    return name


# ---- the merged model, finished ----
def _finish(ld: _Loading, project: Project, model: dict, profiles: list[str], named: list[str]) -> None:
    services = model.get("services") or {}
    enabled = set(profiles)
    for name in named:  # a service named on the command line enables its own profiles
        enabled |= set((services.get(name) or {}).get("profiles") or [])
    for name, svc in services.items():
        own = svc.get("profiles") or []
        if not own or "*" in enabled or enabled & set(own) or name in named:
            project.services[name] = svc
        else:
            project.disabled[name] = svc
    main_file = project.config_files[0]
    for name, svc in project.services.items():
        _resolve_environment(ld, svc, f"{main_file}: services.{name}")
    project.networks = _resources(project, model.get("networks"), "network")
    if any(_uses_default_network(s) for s in project.services.values()) and "default" not in project.networks:
        project.networks["default"] = {"name": f"{project.name}_default"}
    for svc in project.services.values():
        if _uses_default_network(svc) and not svc.get("networks"):
            svc["networks"] = {"default": None}
    project.volumes = _resources(project, model.get("volumes"), "volume")
    project.secrets = _files(project, model.get("secrets"))
    project.configs = _files(project, model.get("configs"))
    for kind in ("secrets", "configs"):
        for key, spec in getattr(project, kind).items():
            if spec.get("environment"):  # looked up: a cached project holds only while it is unchanged
                project.values[f"{kind}.{key}"] = ld.lookup(spec["environment"])
    _check_references(project, main_file)
    project.ordered()  # a dependency cycle is an error now, before anything is made


def _uses_default_network(svc: dict) -> bool:
    return not svc.get("network_mode") and (not svc.get("networks") or "default" in svc["networks"])


def _resolve_environment(ld: _Loading, svc: dict, where: str) -> None:
    from . import envfile
    env: dict = {}
    for entry in svc.get("env_file") or []:
        if not os.path.isfile(entry["path"]):
            if entry.get("required", True):
                raise NotFound(f"{where}.env_file: env file {entry['path']} not found: "
                               f"stat {entry['path']}: no such file or directory")
            continue
        env.update(envfile.read(entry["path"], ld.lookup))
        ld.inputs.append(entry["path"])
    env.update(svc.get("environment") or {})
    if env or "environment" in svc or "env_file" in svc:
        resolved = {k: (v if v is not None else ld.lookup(k)) for k, v in env.items()}
        svc["environment"] = resolved
    svc.pop("env_file", None)


def _resources(project: Project, section: dict | None, kind: str) -> dict:
    out = {}
    for key, spec in (section or {}).items():
        spec = dict(spec or {})
        external = spec.get("external")
        if isinstance(external, dict):  # the legacy `external: {name: x}`
            spec["name"], spec["external"] = external.get("name", spec.get("name", key)), True
        if spec.get("external"):
            spec.setdefault("name", key)
        else:
            spec.setdefault("name", f"{project.name}_{key}")
        out[key] = spec
    return out


def _files(project: Project, section: dict | None) -> dict:
    out = {}
    for key, spec in (section or {}).items():
        spec = dict(spec or {})
        if spec.get("file"):
            spec["file"] = normalize.host_path(spec["file"], project.working_dir)
        out[key] = spec
    return out


def _check_references(project: Project, main_file: str) -> None:
    def fail(where: str, text: str):
        raise InvalidArgument(f"{main_file}: {where}: {text}: invalid compose project")
    for name, svc in project.services.items():
        for net in svc.get("networks") or {}:
            if net not in project.networks:
                fail(f"services.{name}.networks.{net}", f'service "{name}" refers to undefined network {net}')
        for i, vol in enumerate(svc.get("volumes") or []):
            if vol.get("type") == "volume" and vol.get("source") and vol["source"] not in project.volumes:
                fail(f"services.{name}.volumes[{i}]", f'service "{name}" refers to undefined volume {vol["source"]}')
        for kind in ("secrets", "configs"):
            for i, ref in enumerate(svc.get(kind) or []):
                if ref["source"] not in getattr(project, kind):
                    fail(f"services.{name}.{kind}[{i}]",
                         f'service "{name}" refers to undefined {kind[:-1]} {ref["source"]}')
        for dep, spec in (svc.get("depends_on") or {}).items():
            if dep not in project.services and (spec.get("required", True) or dep not in project.disabled):
                fail(f"services.{name}.depends_on.{dep}", f'service "{name}" depends on undefined service "{dep}"')
        for trigger in (svc.get("develop") or {}).get("watch") or []:
            if not trigger.get("target") and trigger.get("action") not in ("rebuild", "restart"):
                fail(f"services.{name}.develop.watch", "target is required for non-rebuild actions")
        mode = svc.get("network_mode") or ""
        if mode.startswith("service:") and mode[8:] not in project.services:
            fail(f"services.{name}.network_mode", f'service "{name}" refers to undefined service "{mode[8:]}"')
    for kind in ("secrets", "configs"):
        for key, spec in getattr(project, kind).items():
            if spec.get("file") and not os.path.exists(spec["file"]):
                fail(f"{kind}.{key}.file", f"{kind[:-1]} {key!r}: file {spec['file']} not found")


def _valid_dir(ld: _Loading) -> Path | None:
    return ld.opts.cache_dir / "valid" if ld.opts.cache_dir is not None else None
