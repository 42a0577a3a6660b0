"""`pallet image pull|push` (pull, push), `login`, `logout`, `manifest inspect`.

Thin: decode flags, call one RegistryService method, render. httpx is
imported only when one of these commands runs. `pull_for_run` is what
`run`/`create` call when the image is missing locally (progress to stderr,
as Docker does).
"""
from __future__ import annotations

from ..errors import UsageError
from .flags import Command, F


def _service(ctx):
    return ctx.engine.registry


def _progress(stream, quiet: bool = False):
    from .pull_progress import for_stream
    return for_stream(stream, quiet)


def _pull(ctx, name: str, stream, quiet=False, platform=None, all_tags=False) -> list:
    from ..reference import parse
    ref = parse(name)
    progress = _progress(stream, quiet)
    if not quiet and not all_tags and ref.tag is None and ref.digest is None:
        progress.line("Using default tag: latest")
    return _service(ctx).pull(name, progress, platform, all_tags)


def image_pull(ctx, o, args) -> int:
    pulled = _pull(ctx, args[0], ctx.stdout, o.quiet, o.platform, o.all_tags)
    if o.all_tags:
        from ..reference import parse
        ctx.out(parse(args[0]).name)
    else:
        ctx.out(pulled[-1].name)
    return 0


def pull_for_run(ctx, name: str, platform: str | None = None) -> None:
    """Pull a missing image for `run`/`create`: progress on stderr, no trailing name line."""
    _pull(ctx, name, ctx.stderr, platform=platform)


def image_push(ctx, o, args) -> int:
    from ..reference import parse
    ref = parse(args[0])
    progress = _progress(ctx.stdout, o.quiet)
    if not o.all_tags and ref.tag is None and ref.digest is None:
        progress.line("Using default tag: latest")
    _service(ctx).push(args[0], progress, o.all_tags)
    if o.quiet:
        ctx.out(str(ref.tagged()) if not o.all_tags else ref.name)
    return 0


def _read_password(ctx, o) -> str | None:
    if o.password and o.password_stdin:
        raise UsageError("--password and --password-stdin are mutually exclusive")
    if o.password_stdin:
        if not o.username:
            raise UsageError("Must provide --username with --password-stdin")
        return ctx.stdin.read().rstrip("\r\n")
    if o.password:
        ctx.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
    return o.password


def login(ctx, o, args) -> int:
    from ..errors import InvalidArgument
    password = _read_password(ctx, o)
    username = o.username
    if not username or password is None:
        if not (hasattr(ctx.stdin, "isatty") and ctx.stdin.isatty()):
            raise InvalidArgument("Cannot perform an interactive login from a non TTY device")
        username, password = _prompt(ctx, username)
    if not username.strip():
        raise InvalidArgument("Username is required")
    where = _service(ctx).login(args[0] if args else None, username.strip(), password)
    if not where.startswith("docker-credential-"):
        ctx.err(f"WARNING! Your password will be stored unencrypted in {where}.\n"
                "Configure a credential helper to remove this warning. See\n"
                "https://docs.docker.com/engine/reference/commandline/login/#credential-stores\n")
    ctx.out("Login Succeeded")
    return 0


def _prompt(ctx, username: str | None) -> tuple[str, str]:
    import getpass
    if not username:
        ctx.stdout.write("Username: ")
        ctx.stdout.flush()
        username = ctx.stdin.readline().strip()
    return username, getpass.getpass("Password: ")


def logout(ctx, o, args) -> int:
    key, found = _service(ctx).logout(args[0] if args else None)
    ctx.out(f"Removing login credentials for {key}" if found else f"Not logged in to {key}")
    return 0


def manifest_inspect(ctx, o, args) -> int:
    ctx.out(_service(ctx).manifest(args[-1]))
    return 0


SEARCH_HEADERS = {"Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS",
                  "IsOfficial": "OFFICIAL", "IsAutomated": "AUTOMATED"}


def search(ctx, o, args) -> int:
    """`docker search`: the registries' catalogs (RegistryService.search), Docker's columns."""
    from ..opts.filters import parse_filters
    from . import render
    found = _service(ctx).search(args[0], o.limit, parse_filters(o.filter))
    rows = [_search_row(r, not o.no_trunc) for r in found]
    render.rows(ctx, rows, o.format, "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}",
                SEARCH_HEADERS, "*formatter.searchContext")
    return 0


def _search_row(r: dict, trunc: bool) -> dict:
    description = r["description"].replace("\n", " ").replace("\r", " ")
    if trunc and len(description) > 45:  # docker/cli's formatter.Ellipsis(desc, 45)
        description = description[:44] + "…"
    return {"Name": r["name"], "Description": description, "StarCount": str(r["star_count"]),
            "IsOfficial": "[OK]" if r["is_official"] else "",
            "IsAutomated": "[OK]" if r["is_automated"] else ""}


COMMANDS = [
    Command("search", "[OPTIONS] TERM", "Search for images in a registry", search, [
        F("filter", "f", kind="list", help="Filter output based on conditions provided"),
        F("format", kind="str", help="Pretty-print search using a Go template"),
        F("limit", kind="int", help="Max number of search results"),
        F("no-trunc", help="Don't truncate output"),
    ], min_args=1, max_args=1),
    Command("image pull", "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry", image_pull, [
        F("all-tags", "a", help="Download all tagged images in the repository"),
        F("disable-content-trust", default=True, help="Skip image verification (default true)"),
        F("platform", kind="str", help="Set platform if server is multi-platform capable"),
        F("quiet", "q", help="Suppress verbose output"),
    ], min_args=1, max_args=1),
    Command("image push", "[OPTIONS] NAME[:TAG]", "Upload an image to a registry", image_push, [
        F("all-tags", "a", help="Push all tags of an image to the repository"),
        F("disable-content-trust", default=True, help="Skip image signing (default true)"),
        F("quiet", "q", help="Suppress verbose output"),
    ], min_args=1, max_args=1),
    Command("login", "[OPTIONS] [SERVER]", "Log in to a registry.\nIf no server is specified, the "
            "default is defined by the daemon.", login, [
        F("password", "p", kind="str", help="Password"),
        F("password-stdin", help="Take the password from stdin"),
        F("username", "u", kind="str", help="Username"),
    ], max_args=1),
    Command("logout", "[SERVER]", "Log out from a registry.\nIf no server is specified, the default "
            "is defined by the daemon.", logout, [], max_args=1),
    Command("manifest inspect", "[OPTIONS] [MANIFEST_LIST] MANIFEST",
            "Display an image manifest, or manifest list", manifest_inspect, [
        F("insecure", help="Allow communication with an insecure registry"),
        F("verbose", "v", help="Output additional info including layers and platform"),
    ], min_args=1, max_args=2),
]
