"""`pallet context ls|inspect|use|create|rm|show`: Docker's client contexts, in the store the
docker CLI reads (pallet.cli.context_store), with Docker's columns, messages and exit codes.

Contexts are the client's business in Docker too (no engine call): these verbs never build
the engine. `endpoint` is what every other verb runs first: `default` without a host, or a
context whose endpoint is this store's own API socket, acts on the local store; another
endpoint is driven through the Engine API (pallet.client) for the verbs in REMOTE_PATHS,
and any other verb is refused in one line (`refuse`).
"""
from __future__ import annotations

import os

from ..errors import InvalidArgument, NotFound, PalletError
from . import context_store as cs
from .flags import Command, F

CONTEXT_HEADERS = {"Name": "NAME", "Description": "DESCRIPTION", "DockerEndpoint": "DOCKER ENDPOINT",
                   "Error": "ERROR", "Current": "CURRENT"}


# The verbs pallet's CLI runs through the Engine API on another engine (pallet.client);
# any other verb under such a context is refused, never run against the local store.
REMOTE_PATHS = frozenset({
    "version", "info", "inspect", "container ls", "container run", "container create", "container start",
    "container stop", "container restart", "container kill", "container rm", "container rename",
    "container wait", "container pause", "container unpause", "container logs", "container exec",
    "container attach", "container inspect", "image ls", "image inspect", "image pull", "image tag",
    "image rm", "network ls", "network create", "network inspect", "network rm", "volume ls",
    "volume create", "volume inspect", "volume rm", "image build", "buildx build", "image history",
    "container top", "container port", "container prune", "image prune", "volume prune", "network prune",
    "network connect", "network disconnect", "image push", "container diff", "container export",
    "container cp",  # to or from a tar stream; with a local path it is refused (pallet.client)
})


def endpoint(ctx) -> tuple[str, str, object] | None:
    """(context name, host, TLS) of the engine a verb talks to, or None for the local store:
    docker/cli's order, --host or --context (not both), then $DOCKER_HOST, $DOCKER_CONTEXT,
    config.json's currentContext. `default` without a host, or any endpoint that is this
    store's own API socket, is the local store."""
    import os
    if ctx.host_flag and ctx.context_flag:
        raise PalletError("conflicting options: either specify --host or --context, not both")
    if ctx.host_flag:
        if len(ctx.host_flag) > 1:
            raise PalletError("Specify only one -H")
        name, host, tls = cs.DEFAULT, ctx.host_flag[0], cs.env_tls()
    else:
        name = cs.selected(ctx.context_flag)
        if name == cs.DEFAULT:
            host = os.environ.get("DOCKER_HOST")
            if not host:
                return None
            tls = cs.env_tls()
        else:
            try:
                meta = cs.load(name)
            except NotFound as exc:
                raise NotFound(f"unable to resolve docker endpoint: {exc}") from None
            host, tls = cs.host(meta), cs.context_tls(name, meta)
    if not host or host == f"unix://{ctx.engine.paths.runroot}/pallet.sock":  # `system service`'s default
        return None
    return name, host, tls


def refuse(name: str, host: str, typed: str) -> PalletError:
    """`typed`: the verb as the user wrote it (`build`, `image build`)."""
    return PalletError(f'"pallet {typed}" is not supported through context "{name}" ({host}) by pallet\'s CLI: '
                       f'use "docker --context {name} {typed}"')


def context_ls(ctx, o, args) -> int:
    from . import render
    current = cs.selected(ctx.context_flag)
    rows = []
    for name in cs.names():
        row = {"Name": name, "Current": name == current, "Error": "", "Description": "", "DockerEndpoint": ""}
        try:
            meta = cs.load(name)
            row["DockerEndpoint"] = cs.host(meta)
            row["Description"] = cs.DEFAULT_DESCRIPTION if name == cs.DEFAULT else \
                str((meta.get("Metadata") or {}).get("Description") or "")
        except PalletError as exc:
            row["Error"] = str(exc)
        rows.append(row)
    if o.quiet:
        ctx.stdout.write("".join(r["Name"] + "\n" for r in rows))
        return 0
    if not o.format or o.format.startswith("table"):
        for r in rows:  # docker marks the current one in its table only
            r["Name"] += " *" if r["Current"] else ""
    render.rows(ctx, rows, o.format, "table {{.Name}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}",
                CONTEXT_HEADERS, "*formatter.ClientContext")
    return 0


def _inspect_doc(name: str) -> dict:
    doc = cs.load(name)
    doc = {"Name": doc.get("Name", name), "Metadata": doc.get("Metadata") or {},
           "Endpoints": doc.get("Endpoints") or {}, "TLSMaterial": {}}
    if name != cs.DEFAULT and os.path.isdir(cs.tls_dir(name)):
        doc["TLSMaterial"] = {"docker": sorted(os.listdir(cs.tls_dir(name)))}
    if name == cs.DEFAULT:
        doc["Storage"] = {"MetadataPath": "<IN MEMORY>", "TLSPath": "<IN MEMORY>"}
    else:
        meta = cs.meta_dir(name)
        tls = os.path.join(cs.config_dir(), "contexts", "tls", os.path.basename(meta))
        doc["Storage"] = {"MetadataPath": meta, "TLSPath": tls}
    return doc


def context_inspect(ctx, o, args) -> int:
    from . import render
    return render.inspect_each(ctx, args or [cs.selected(ctx.context_flag)], _inspect_doc, o.format)


def context_use(ctx, o, args) -> int:
    name = args[0]
    cs.load(name)  # docker: an unknown one is "context not found"
    cs.set_current(name)
    ctx.out(name)
    ctx.err(f'Current context is now "{name}"')
    return 0


def _endpoint(spec: str | None) -> tuple[dict | None, dict[str, bytes]]:
    """--docker "host=tcp://...,ca=PATH,cert=PATH,key=PATH,skip-tls-verify=false" -> the docker
    endpoint, and the TLS files' contents (kept in the context's own TLS directory, as docker does)."""
    if spec is None:
        return None, {}
    endpoint, tls = {"Host": "", "SkipTLSVerify": False}, {}
    for part in filter(None, spec.split(",")):
        key, sep, value = part.partition("=")
        if key == "host" and sep:
            endpoint["Host"] = value
        elif key == "skip-tls-verify" and value.lower() in ("true", "false", "1", "0"):
            endpoint["SkipTLSVerify"] = value.lower() in ("true", "1")
        elif key in ("ca", "cert", "key") and sep:
            try:
                with open(os.path.expanduser(value), "rb") as f:
                    tls[key] = f.read()
            except OSError as exc:
                raise InvalidArgument(f"unable to create docker endpoint config: open {value}: "
                                      f"{exc.strerror.lower()}") from None
        else:
            raise InvalidArgument(f'unable to create docker endpoint config: unrecognized config key: {key}')
    if ("cert" in tls) != ("key" in tls):
        raise InvalidArgument("unable to create docker endpoint config: cert and key must be given together")
    return endpoint, tls


def context_create(ctx, o, args) -> int:
    name = args[0]
    endpoint, tls = _endpoint(o.docker)
    description = o.description
    if endpoint is None:  # docker: a copy of the current context's endpoint
        source = cs.load(cs.selected(ctx.context_flag))
        endpoint = dict((source.get("Endpoints") or {}).get("docker") or {})
        if description is None:
            description = cs.DEFAULT_DESCRIPTION if source.get("Name") == cs.DEFAULT else \
                (source.get("Metadata") or {}).get("Description")
    cs.create(name, description or "", endpoint, tls)
    ctx.out(name)
    ctx.err(f'Successfully created context "{name}"')
    return 0


def context_update(ctx, o, args) -> int:
    """--description and/or --docker; a new endpoint replaces the TLS material too (docker)."""
    name = args[0]
    if name == cs.DEFAULT:
        raise InvalidArgument(f'"{cs.DEFAULT}" is a reserved context name')
    meta = cs.load(name)
    endpoint, tls = _endpoint(o.docker)
    if o.description is not None:
        meta["Metadata"] = {**(meta.get("Metadata") or {}), "Description": o.description}
    if endpoint is not None:
        meta["Endpoints"] = {**(meta.get("Endpoints") or {}), "docker": endpoint}
    cs.save(name, meta, {f"{key}.pem": pem for key, pem in tls.items()} if endpoint is not None else None)
    ctx.out(name)
    ctx.err(f'Successfully updated context "{name}"')
    return 0


def context_export(ctx, o, args) -> int:
    from .context_archive import export_bytes
    name = args[0]
    dest = args[1] if len(args) > 1 else f"{name}.dockercontext"
    data = export_bytes(name)
    if dest == "-":
        out = getattr(ctx.stdout, "buffer", ctx.stdout)
        out.write(data)
        out.flush()
        return 0
    try:
        with open(dest, "xb") as f:  # docker never overwrites: "open F: file exists"
            f.write(data)
    except OSError as exc:
        raise PalletError(f"open {dest}: {(exc.strerror or str(exc)).lower()}") from None
    ctx.err(f'Written file "{dest}"')
    return 0


def context_import(ctx, o, args) -> int:
    from .context_archive import MAX_ARCHIVE, import_bytes
    name, source = args
    cs.check_new_name(name)
    if source == "-":
        data = getattr(ctx.stdin, "buffer", ctx.stdin).read(MAX_ARCHIVE + 1)
    else:
        try:
            with open(source, "rb") as f:
                data = f.read(MAX_ARCHIVE + 1)
        except OSError as exc:
            raise PalletError(f"open {source}: {(exc.strerror or str(exc)).lower()}") from None
    if len(data) > MAX_ARCHIVE:
        raise InvalidArgument(f"invalid context archive: larger than {MAX_ARCHIVE} bytes")
    import_bytes(name, data)
    ctx.out(name)
    ctx.err(f'Successfully imported context "{name}"')
    return 0


def context_rm(ctx, o, args) -> int:
    current, failed = cs.current(), []
    for name in args:
        if name == cs.DEFAULT:
            failed.append(f'context "{name}" cannot be removed')
        elif not cs.exists(name):
            failed.append(f'context "{name}" does not exist')
        elif name == current and not o.force:
            failed.append(f'context "{name}" is in use, set -f flag to force remove')
        else:
            if name == current:
                cs.set_current(cs.DEFAULT)
            cs.remove(name)
            ctx.out(name)
    for message in failed:
        ctx.err(f"Error: {message}")
    return 1 if failed else 0


def context_show(ctx, o, args) -> int:
    ctx.out(cs.selected(ctx.context_flag))
    return 0


COMMANDS = [
    Command("context ls", "[OPTIONS]", "List contexts", context_ls, [
        F("format", kind="str", help="Format output using a custom template"),
        F("quiet", "q", help="Only show context names"),
    ], 0, 0, aliases=("context list",)),
    Command("context inspect", "[OPTIONS] [CONTEXT] [CONTEXT...]", "Display detailed information on one or "
            "more contexts", context_inspect, [F("format", "f", kind="str", help="Format output using a custom template")]),
    Command("context use", "CONTEXT", "Set the current docker context", context_use, [], 1, 1),
    Command("context create", "[OPTIONS] CONTEXT", "Create a context", context_create, [
        F("description", kind="str", help="Description of the context"),
        F("docker", kind="str", help="set the docker endpoint (host=unix:///... or tcp://HOST:PORT,ca=,cert=,key=,skip-tls-verify=)"),
    ], 1, 1),
    Command("context update", "[OPTIONS] CONTEXT", "Update a context", context_update, [
        F("description", kind="str", help="Description of the context"),
        F("docker", kind="str", help="set the docker endpoint (host=unix:///... or tcp://HOST:PORT,ca=,cert=,key=,"
          "skip-tls-verify=)"),
    ], 1, 1),
    Command("context export", "[OPTIONS] CONTEXT [FILE|-]", "Export a context to a tar archive FILE or a tar "
            "stream on STDOUT.", context_export, [], 1, 2),
    Command("context import", "CONTEXT FILE|-", "Import a context from a tar or zip file", context_import, [], 2, 2),
    Command("context rm", "CONTEXT [CONTEXT...]", "Remove one or more contexts", context_rm, [
        F("force", "f", help="Force the removal of a context in use"),
    ], min_args=1, aliases=("context remove",)),
    Command("context show", "", "Print the name of the current context", context_show, [], 0, 0),
]
