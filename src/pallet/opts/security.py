"""``--security-opt``: what Docker's CLI checks and what its daemon makes of the options.

Owns two steps, as Docker splits them:

1. the CLI (`cli_options`) refuses an option that is neither ``key=value``, ``key:value``
   nor ``no-new-privileges`` (``Invalid --security-opt: "x"``), and replaces
   ``seccomp=<file>`` by ``seccomp=<the file's JSON, compacted>``, so the profile
   travels in ``HostConfig.SecurityOpt`` and a later edit of the file changes nothing;
2. the daemon (`SecurityOptions.parse`) reads them: ``no-new-privileges[=bool]``,
   ``seccomp=unconfined|<profile JSON>``, ``apparmor=..``, ``label=..`` (accepted: this
   host enforces neither AppArmor nor SELinux), ``systempaths=unconfined`` (no masked or
   read-only /proc paths); anything else is Docker's ``invalid --security-opt 2``.

Errors are InvalidArgument (exit 125 from run/create) in Docker's wording.
"""
from __future__ import annotations

from ..errors import InvalidArgument
from ..record import dataclass
from . import go_bool

UNCONFINED = "unconfined"


def cli_options(options: list[str]) -> list[str]:
    out = []
    for opt in options:
        key, value = _split(opt)
        if key is None and opt != "no-new-privileges":
            raise InvalidArgument(f"Invalid --security-opt: {_go_quote(opt)}")
        if key == "seccomp" and value != UNCONFINED:
            opt = "seccomp=" + _compact_profile(value)
        out.append(opt)
    return out


@dataclass(frozen=True)
class SecurityOptions:
    no_new_privileges: bool = False
    seccomp: str | None = None         # None: Docker's default; "unconfined"; or a profile's JSON
    systempaths_unconfined: bool = False

    @classmethod
    def parse(cls, options: list[str] | None) -> "SecurityOptions":
        nnp, seccomp, systempaths = False, None, False
        for opt in options or []:
            if opt == "no-new-privileges":
                nnp = True
                continue
            if opt == "disable":  # Docker's short form of label=disable
                continue
            key, value = _split(opt)
            if key is None:
                raise InvalidArgument(f"invalid --security-opt 1: {_go_quote(opt)}")
            if key == "no-new-privileges":
                nnp = _parse_bool(value, opt)
            elif key == "seccomp":
                seccomp = value
            elif key == "systempaths":
                if value != UNCONFINED:
                    raise InvalidArgument(f"invalid --security-opt 2: {_go_quote(opt)}")
                systempaths = True
            elif key not in ("label", "apparmor"):
                raise InvalidArgument(f"invalid --security-opt 2: {_go_quote(opt)}")
        return cls(nnp, seccomp, systempaths)


def _split(opt: str) -> tuple[str | None, str]:
    for sep in ("=", ":"):  # "key:value" is Docker's old spelling, still accepted
        if sep in opt:
            key, _, value = opt.partition(sep)
            return key, value
    return None, ""


def _parse_bool(text: str, opt: str) -> bool:
    value = go_bool(text)
    if value is None:
        raise InvalidArgument(f"invalid --security-opt 2: {_go_quote(opt)}")
    return value


def _compact_profile(path: str) -> str:
    from .. import jsontext
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise InvalidArgument(f"opening seccomp profile ({path}) failed: open {path}: "
                              f"{(exc.strerror or str(exc)).lower()}") from None
    try:
        return jsontext.dumps(jsontext.loads(data), compact=True, ensure_ascii=False)
    except ValueError as exc:
        raise InvalidArgument(f"compacting json for seccomp profile ({path}) failed: {exc}") from None


def _go_quote(text: str) -> str:
    from ..format.lexer import go_quote
    return go_quote(text)
