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


def inspect(ctx, docs: list[dict], fmt: str | None) -> None:
    if fmt:
        from ..format.template import compile_template
        tpl = compile_template(fmt)
        ctx.stdout.write("".join(tpl.render(d) + "\n" for d in docs))
        return
    import json  # indent= needs the json package; only inspect pays for its import
    ctx.stdout.write(json.dumps(docs, indent=4, ensure_ascii=False) + "\n")


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
    if docs or not failed:
        inspect(ctx, docs, fmt)
    return 1 if failed else 0


def confirm(ctx, warning: str) -> bool:
    ctx.stdout.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
    ctx.stdout.flush()
    answer = ctx.stdin.readline() if ctx.stdin else ""
    return answer.strip().lower() in ("y", "yes")
