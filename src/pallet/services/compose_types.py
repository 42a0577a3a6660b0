"""Typed requests of `pallet compose` (pallet.compose), for the edges (cli/, api/) to build.

Imports nothing of pallet but `pallet.record`.
"""
from __future__ import annotations

from ..record import dataclass, field

COMPOSE_VERSION = "2.29.7"  # the docker compose v2 release whose behaviour pallet follows


@dataclass
class ProjectOptions:
    """docker compose's global options: which files, which project, which environment."""
    files: list = field(default_factory=list)          # -f, repeatable; "-" is stdin
    project_name: str | None = None                    # -p
    project_directory: str | None = None               # --project-directory
    env_files: list = field(default_factory=list)      # --env-file, repeatable
    profiles: list = field(default_factory=list)       # --profile, repeatable
    environ: dict | None = None                        # None: os.environ
    cwd: str | None = None                             # None: the process's
    stdin: object = None                               # what `-f -` reads
    cache_dir: object = None                           # a Path: loaded projects remembered there
    interpolate: bool = True                           # False: `config --no-interpolate`


@dataclass
class UpOptions:
    """`up` / `create`: what to converge, and how."""
    services: list = field(default_factory=list)
    no_deps: bool = False
    build: str | None = None           # "always" (--build), "never" (--no-build), None: when missing
    pull: str | None = None            # always | missing | never | build; None: each pull_policy
    force_recreate: bool = False
    no_recreate: bool = False
    scale: dict = field(default_factory=dict)
    remove_orphans: bool = False
    start: bool = True
    timeout: int | None = None


@dataclass
class WatchOptions:
    """`watch`: which services, and what to do before and after watching."""
    services: list = field(default_factory=list)
    no_up: bool = False                # --no-up: watch what is there, build and start nothing
    quiet: bool = False                # --quiet: no build output
    prune: bool = True                 # --prune: remove the image a rebuild replaced, once unused
