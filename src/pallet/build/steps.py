"""Config-only instructions: one small function each, changing a stage's image config.

Owns: `StageState` (what a stage carries from step to step) and `apply_config`,
which runs ENV, LABEL, ARG, CMD, ENTRYPOINT, EXPOSE, VOLUME, USER, WORKDIR,
STOPSIGNAL, SHELL, HEALTHCHECK, ONBUILD and MAINTAINER on a state and returns
the text recorded in the image history (`/bin/sh -c #(nop)  ENV A=1`, as
Docker's classic builder writes it). These make no layer (history
`empty_layer: true`). Variable substitution happens here, in exactly the
instructions Docker expands (see pallet.build.substitution). Pure: no I/O.
"""
from __future__ import annotations

import copy
import json
import posixpath
import re
from dataclasses import dataclass, field

from ..errors import InvalidArgument
from .dockerfile import Instruction, Stage
from .substitution import expand, expand_words

DEFAULT_SHELL = ["/bin/sh", "-c"]
PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
                        "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"})
CONFIG_ONLY = frozenset({"ENV", "LABEL", "ARG", "CMD", "ENTRYPOINT", "EXPOSE", "VOLUME", "USER",
                         "STOPSIGNAL", "SHELL", "HEALTHCHECK", "ONBUILD", "MAINTAINER"})


@dataclass
class StageState:
    stage: Stage
    image_id: str | None                 # None: FROM scratch and nothing committed yet
    doc: dict                            # the full image config document
    args: dict[str, str] = field(default_factory=dict)   # ARGs in scope that have a value
    escape: str = "\\"
    cmd_set: bool = False                # CMD given in this stage (ENTRYPOINT keeps it)

    @property
    def config(self) -> dict:
        return self.doc.setdefault("config", {})

    def env(self) -> dict[str, str]:
        out = {}
        for item in self.config.get("Env") or []:
            k, _, v = item.partition("=")
            out[k] = v
        return out

    def variables(self) -> dict[str, str]:
        """What substitution sees: build args, overridden by ENV (Docker's precedence)."""
        return {**self.args, **self.env()}

    def shell(self) -> list[str]:
        return list(self.config.get("Shell") or DEFAULT_SHELL)

    def expand(self, word: str) -> str:
        return expand(word, self.variables(), self.escape)

    def copy(self) -> "StageState":
        return StageState(self.stage, self.image_id, copy.deepcopy(self.doc), dict(self.args),
                          self.escape, self.cmd_set)


def apply_config(ins: Instruction, state: StageState, build_args: dict[str, str],
                 meta_args: dict[str, str]) -> str:
    """Apply one config-only instruction to `state`; returns its history text."""
    handler = _HANDLERS[ins.cmd]
    text = handler(ins, state, build_args, meta_args)
    return f"/bin/sh -c #(nop)  {text}"


def _pairs(ins: Instruction, state: StageState) -> list[tuple[str, str]]:
    vars_before = state.variables()
    vals = list(ins.args)
    return [(expand(vals[i], vars_before, state.escape), expand(vals[i + 1], vars_before, state.escape))
            for i in range(0, len(vals) - 1, 2)]


def _env(ins, state, _b, _m) -> str:
    env = state.env()
    pairs = _pairs(ins, state)
    for k, v in pairs:
        env[k] = v
    state.config["Env"] = [f"{k}={v}" for k, v in env.items()]
    return "ENV " + " ".join(f"{k}={v}" for k, v in pairs)


def _label(ins, state, _b, _m) -> str:
    pairs = _pairs(ins, state)
    labels = dict(state.config.get("Labels") or {})
    labels.update(pairs)
    state.config["Labels"] = labels
    return "LABEL " + " ".join(f"{k}={v}" for k, v in pairs)


def platform_args() -> dict[str, str]:
    """BuildKit's automatic platform args. pallet builds for the host, so the build and target
    platforms are both the host's. In the global scope (FROM) they need no declaration; in a
    stage, `ARG TARGETARCH` brings one into scope."""
    import os
    from ..oci.image import host_platform
    host = host_platform()
    variant = "v7" if os.uname().machine == "armv7l" else ""
    platform = "/".join(p for p in (host["os"], host["architecture"], variant) if p)
    out = {}
    for side in ("BUILD", "TARGET"):
        out.update({f"{side}PLATFORM": platform, f"{side}OS": host["os"],
                    f"{side}ARCH": host["architecture"], f"{side}VARIANT": variant})
    return out


def declare_arg(word: str, args: dict[str, str], variables: dict[str, str], escape: str,
                build_args: dict[str, str], meta_args: dict[str, str]) -> str:
    """One `ARG name[=default]`: sets args[name] when it gets a value; returns `name[=value]`."""
    name, eq, default = word.partition("=")
    name = expand(name, variables, escape)
    if name in build_args:
        args[name] = build_args[name]
    elif eq:
        args[name] = expand(default, variables, escape)
    elif name in meta_args:
        args[name] = meta_args[name]
    return f"{name}={args[name]}" if name in args else name


def _arg(ins, state, build_args, meta_args) -> str:
    shown = [declare_arg(w, state.args, state.variables(), state.escape, build_args, meta_args)
             for w in ins.args]
    return "ARG " + " ".join(shown)


def command_form(ins: Instruction, state: StageState) -> list[str]:
    """Exec form as written; shell form wrapped in the stage's SHELL."""
    if ins.json:
        return list(ins.args)
    return state.shell() + [" ".join(ins.args)]


def _cmd(ins, state, _b, _m) -> str:
    state.config["Cmd"] = command_form(ins, state)
    state.cmd_set = True
    return "CMD " + go_quoted_list(state.config["Cmd"])


def go_quoted_list(words: list[str]) -> str:
    """Go's %q of a []string, as the classic builder writes CMD/ENTRYPOINT into history:
    ``["cat" "/app/f.txt"]``."""
    from ..format.lexer import go_quote
    return "[" + " ".join(go_quote(w) for w in words) + "]"


def _entrypoint(ins, state, _b, _m) -> str:
    state.config["Entrypoint"] = command_form(ins, state)
    if not state.cmd_set:
        state.config.pop("Cmd", None)  # Docker: a new ENTRYPOINT drops the base image's CMD
    return "ENTRYPOINT " + go_quoted_list(state.config["Entrypoint"])


def _expose(ins, state, _b, _m) -> str:
    ports = dict(state.config.get("ExposedPorts") or {})
    words = expand_words(" ".join(ins.args), state.variables(), state.escape)
    for word in words:
        for port in _port_range(word):
            ports[port] = {}
    state.config["ExposedPorts"] = ports
    return "EXPOSE " + " ".join(sorted(ports))


def _port_range(word: str) -> list[str]:
    m = re.fullmatch(r"(\d+)(?:-(\d+))?(?:/(tcp|udp|sctp))?", word.lower())
    if not m:
        raise InvalidArgument(f"invalid containerPort: {word}")
    lo, hi, proto = int(m.group(1)), int(m.group(2) or m.group(1)), m.group(3) or "tcp"
    if hi < lo or hi > 65535:
        raise InvalidArgument(f"invalid port range: {word}")
    return [f"{p}/{proto}" for p in range(lo, hi + 1)]


def _volume(ins, state, _b, _m) -> str:
    vols = dict(state.config.get("Volumes") or {})
    words = [state.expand(a) for a in ins.args] if ins.json else \
        expand_words(" ".join(ins.args), state.variables(), state.escape)
    for v in words:
        if not v.strip():
            raise InvalidArgument("VOLUME specified can not be an empty string")
        vols[v] = {}
    state.config["Volumes"] = vols
    return "VOLUME " + json.dumps(words)


def _user(ins, state, _b, _m) -> str:
    state.config["User"] = state.expand(ins.args[0])
    return "USER " + state.config["User"]


def workdir_path(ins: Instruction, state: StageState) -> str:
    target = state.expand(ins.args[0])
    return posixpath.normpath(posixpath.join(state.config.get("WorkingDir") or "/", target))


def _stopsignal(ins, state, _b, _m) -> str:
    state.config["StopSignal"] = state.expand(ins.args[0])
    return "STOPSIGNAL " + state.config["StopSignal"]


def _shell(ins, state, _b, _m) -> str:
    state.config["Shell"] = list(ins.args)
    return "SHELL " + json.dumps(list(ins.args))


def _healthcheck(ins, state, _b, _m) -> str:
    if ins.args[0].upper() == "NONE":
        state.config["Healthcheck"] = {"Test": ["NONE"]}
        return "HEALTHCHECK NONE"
    if ins.args[0].upper() != "CMD":
        raise InvalidArgument(f"Unknown type {ins.args[0]!r} in HEALTHCHECK (try CMD)")
    rest = list(ins.args[1:])
    test = ["CMD", *rest] if ins.json else ["CMD-SHELL", " ".join(rest)]
    hc = {"Test": test}
    for flag, key in (("interval", "Interval"), ("timeout", "Timeout"),
                      ("start-period", "StartPeriod"), ("start-interval", "StartInterval")):
        if ins.flag(flag):
            hc[key] = go_duration_ns(ins.flag(flag))
    if ins.flag("retries"):
        hc["Retries"] = int(ins.flag("retries"))
    state.config["Healthcheck"] = hc
    return "HEALTHCHECK " + json.dumps(hc, sort_keys=True)


def go_duration_ns(text: str) -> int:
    units = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
             "h": 3600 * 10**9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise InvalidArgument(f'time: invalid duration "{text}"')
    return int(sum(float(n) * units[u] for n, u in parts))


def _onbuild(ins, state, _b, _m) -> str:
    trigger = ins.original.split(None, 1)[1]
    state.config["OnBuild"] = list(state.config.get("OnBuild") or []) + [trigger]
    return "ONBUILD " + trigger


def _maintainer(ins, state, _b, _m) -> str:
    state.doc["author"] = " ".join(ins.args)
    return "MAINTAINER " + state.doc["author"]


_HANDLERS = {"ENV": _env, "LABEL": _label, "ARG": _arg, "CMD": _cmd, "ENTRYPOINT": _entrypoint,
             "EXPOSE": _expose, "VOLUME": _volume, "USER": _user, "STOPSIGNAL": _stopsignal,
             "SHELL": _shell, "HEALTHCHECK": _healthcheck, "ONBUILD": _onbuild,
             "MAINTAINER": _maintainer}
