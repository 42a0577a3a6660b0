"""Docker's client context store, in Docker's on-disk format, shared with the docker CLI.

    $DOCKER_CONFIG (or ~/.docker)/config.json            "currentContext": NAME (absent: default)
    .../contexts/meta/<sha256 hex of NAME>/meta.json     {"Name", "Metadata": {"Description"},
                                                          "Endpoints": {"docker": {"Host", "SkipTLSVerify"}}}

`default` is built in, never stored: Docker's "Current DOCKER_HOST based configuration".
Which context a command uses: `--context`, else $DOCKER_CONTEXT, else currentContext
(`selected`, cheap: the json package is imported only when config.json names one). Writes go through a
temporary file and a rename, so that a docker CLI reading at the same time sees the old file
or the new one. Other keys of config.json (auths, detachKeys, ...) are kept as they are.
"""
from __future__ import annotations

import os

from ..errors import AlreadyExists, InvalidArgument, NotFound

DEFAULT = "default"
DEFAULT_DESCRIPTION = "Current DOCKER_HOST based configuration"
NAME_RULE = "^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$"


def config_dir() -> str:
    return os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def meta_dir(name: str) -> str:
    import hashlib
    return os.path.join(config_dir(), "contexts", "meta", hashlib.sha256(name.encode()).hexdigest())


def _read_config() -> dict:
    import json
    try:
        with open(os.path.join(config_dir(), "config.json"), "rb") as f:
            doc = json.loads(f.read() or b"{}")
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def current() -> str:
    name = _read_config().get("currentContext")
    return name if isinstance(name, str) and name else DEFAULT


def selected(flag: str | None) -> str:
    """The context a command runs against: --context, `default` when $DOCKER_HOST is set
    (docker/cli: it is the default context's endpoint), $DOCKER_CONTEXT, config.json."""
    if flag:
        return flag
    if os.environ.get("DOCKER_HOST"):
        return DEFAULT
    env = os.environ.get("DOCKER_CONTEXT")
    if env:
        return env
    try:  # the common case, no config or no context in it, costs one read and no parse
        with open(os.path.join(config_dir(), "config.json"), "rb") as f:
            if b"currentContext" not in f.read():
                return DEFAULT
    except OSError:
        return DEFAULT
    return current()


def default_endpoint() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def default_meta() -> dict:
    return {"Name": DEFAULT, "Metadata": {},
            "Endpoints": {"docker": {"Host": default_endpoint(), "SkipTLSVerify": False}}}


def load(name: str) -> dict:
    """A context's meta.json; `default` is built in. NotFound in docker's words."""
    if name == DEFAULT:
        return default_meta()
    path = os.path.join(meta_dir(name), "meta.json")
    import json
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
    except FileNotFoundError as exc:
        raise NotFound(f'context "{name}": context not found: open {path}: no such file or directory') from exc
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f'context "{name}": cannot read {path}: {exc}') from exc
    if not isinstance(doc, dict):
        raise InvalidArgument(f'context "{name}": {path} is not a context')
    return doc


def exists(name: str) -> bool:
    return name == DEFAULT or os.path.isfile(os.path.join(meta_dir(name), "meta.json"))


def names() -> list[str]:
    """Every stored context's name, sorted, `default` first (as `docker context ls`)."""
    import json
    root = os.path.join(config_dir(), "contexts", "meta")
    found = []
    for entry in os.listdir(root) if os.path.isdir(root) else []:
        try:
            with open(os.path.join(root, entry, "meta.json"), "rb") as f:
                name = json.loads(f.read()).get("Name")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(name, str) and name != DEFAULT:
            found.append(name)
    return [DEFAULT] + sorted(found)


def host(meta: dict) -> str:
    endpoint = (meta.get("Endpoints") or {}).get("docker") or {}
    return str(endpoint.get("Host") or "")


def tls_dir(name: str) -> str:
    """Where a context's TLS material is kept: contexts/tls/<sha256 of name>/docker/."""
    return os.path.join(config_dir(), "contexts", "tls", os.path.basename(meta_dir(name)), "docker")


def context_tls(name: str, meta: dict) -> dict | None:
    """The TLS a context's docker endpoint uses: its ca.pem/cert.pem/key.pem, if it has any."""
    files = {key: os.path.join(tls_dir(name), f"{key}.pem") for key in ("ca", "cert", "key")}
    files = {key: path for key, path in files.items() if os.path.isfile(path)}
    if not files:
        return None
    skip = bool(((meta.get("Endpoints") or {}).get("docker") or {}).get("SkipTLSVerify"))
    return {**files, "verify": not skip}


def env_tls() -> dict | None:
    """-H and DOCKER_HOST's TLS, as docker/cli reads it: $DOCKER_TLS_VERIFY, with ca.pem,
    cert.pem and key.pem from $DOCKER_CERT_PATH (default: the config directory)."""
    if not os.environ.get("DOCKER_TLS_VERIFY"):
        return None
    base = os.environ.get("DOCKER_CERT_PATH") or config_dir()
    return {key: os.path.join(base, f"{key}.pem") for key in ("ca", "cert", "key")} | {"verify": True}


def check_new_name(name: str) -> None:
    import re
    if name == DEFAULT:
        raise InvalidArgument(f'"{DEFAULT}" is a reserved context name')
    if not re.fullmatch(NAME_RULE, name):
        raise InvalidArgument(f'context name "{name}" is invalid, names are validated against regexp "{NAME_RULE}"')
    if exists(name):
        raise AlreadyExists(f'context "{name}" already exists')


def create(name: str, description: str, endpoint: dict, tls: dict[str, bytes] | None = None) -> None:
    """A new context; `tls` ({"ca"|"cert"|"key": PEM bytes}) goes to its TLS directory as
    ca.pem, cert.pem, key.pem (the key readable by its owner only), as docker keeps them."""
    check_new_name(name)
    meta = {"Name": name, "Metadata": {"Description": description} if description else {},
            "Endpoints": {"docker": endpoint}}
    save(name, meta, {f"{key}.pem": pem for key, pem in (tls or {}).items()})


def save(name: str, meta: dict, tls_files: dict[str, bytes] | None) -> None:
    """Write a context's meta.json; `tls_files` (name -> bytes), unless None, replace its TLS files."""
    import json
    import shutil
    os.makedirs(meta_dir(name), exist_ok=True)
    if tls_files is not None:
        shutil.rmtree(tls_dir(name), ignore_errors=True)
    for file_name, data in (tls_files or {}).items():
        os.makedirs(tls_dir(name), mode=0o700, exist_ok=True)
        path = os.path.join(tls_dir(name), file_name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(data)
    _write(os.path.join(meta_dir(name), "meta.json"), json.dumps(meta, separators=(",", ":")))


def tls_files(name: str) -> dict[str, bytes]:
    out = {}
    for file_name in sorted(os.listdir(tls_dir(name))) if os.path.isdir(tls_dir(name)) else []:
        with open(os.path.join(tls_dir(name), file_name), "rb") as f:
            out[file_name] = f.read()
    return out


def remove(name: str) -> None:
    import shutil
    shutil.rmtree(meta_dir(name))
    shutil.rmtree(os.path.join(config_dir(), "contexts", "tls", os.path.basename(meta_dir(name))),
                  ignore_errors=True)


def set_current(name: str) -> None:
    """config.json's currentContext; `default` is written as no key, as docker does."""
    import json
    path = os.path.join(config_dir(), "config.json")
    doc = _read_config()
    if name == DEFAULT:
        doc.pop("currentContext", None)
    else:
        doc["currentContext"] = name
    os.makedirs(config_dir(), exist_ok=True)
    _write(path, json.dumps(doc, indent="\t"))


def _write(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
