"""Output helpers shared by the CLI verbs: tables, --format, inspect JSON, prompts."""
from __future__ import annotations


IMAGE_HEADERS = {"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Digest": "DIGEST",
                 "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
                 "Containers": "CONTAINERS", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
                 "VirtualSize": "VIRTUAL SIZE"}
HISTORY_HEADERS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
                   "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"}


def rows(ctx, items: list, fmt: str | None, default: str, headers: dict[str, str],
         go_type: str | None = None) -> None:
    """Docker's list rendering: `table ...` aligned with a header, raw templates, or `json`.
    `go_type`: the docker/cli struct a row stands for, named when a template asks it for a
    field it lacks."""
    from ..format.table import format_rows
    ctx.stdout.write(format_rows(fmt, items, default, headers=headers, go_type=go_type))


def inspect(ctx, docs: list[dict], fmt: str | None, *, objects: bool = False) -> bool:
    """Print `docs` as docker/cli's inspectors do; False if a template failed on one.

    Without a format, an indented JSON list (``[]`` for none); ``json``, the same list
    compact on one line; any other format, the template on each doc, one line each, and a
    lone newline if nothing printed. With `objects` (``inspect`` of containers, images,
    volumes, networks: raw JSON maps in docker/cli) a key the data lacks is an error,
    ``map has no entry for key "X"``, where version/info print ``<no value>``."""
    from ..errors import InvalidArgument
    import json  # indent= needs the json package; only inspect pays for its import
    if not fmt:
        ctx.stdout.write(json.dumps(docs, indent=4, ensure_ascii=False) + "\n")
        return True
    if fmt == "json" and objects:
        ctx.stdout.write(json.dumps(docs, ensure_ascii=False, separators=(",", ":")) + "\n")
        return True
    from ..format.template import compile_template
    try:
        tpl = compile_template(fmt)
    except InvalidArgument as exc:
        raise InvalidArgument(f"template parsing error: {exc}") from None
    out, ok = [], True
    for doc in docs:
        try:
            out.append(tpl.render(doc, missing_key_error=objects) + "\n")
        except InvalidArgument as exc:
            ctx.err(f"template parsing error: {exc}")
            ok = False
    ctx.stdout.write("".join(out) or "\n")
    return ok


def inspect_each(ctx, refs: list[str], lookup, fmt: str | None) -> int:
    """Docker's `X inspect A B ...`: report each unknown one, print the rest, exit 1 if any failed."""
    from ..errors import PalletError
    docs, failed = [], False
    for ref in refs:
        try:
            docs.append(lookup(ref))
        except PalletError as exc:
            ctx.err(f"Error: {exc}")
            failed = True
    printed = inspect(ctx, docs, fmt, objects=True)
    return 1 if failed or not printed else 0


def confirm(ctx, warning: str) -> bool:
    ctx.stdout.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
    ctx.stdout.flush()
    answer = ctx.stdin.readline() if ctx.stdin else ""
    return answer.strip().lower() in ("y", "yes")
