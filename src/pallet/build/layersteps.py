"""The instructions that make a layer: COPY, ADD, RUN, and WORKDIR when it creates a directory.

Owns: turning one instruction into cache inputs (what the key is made of) and,
on a miss, into a staged layer committed as the step's image. The executor
(pallet.build.executor) owns the cache lookup, commits and output.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import stat
import tempfile
from pathlib import Path

from ..errors import InvalidArgument, NotFound, PalletError
from . import cache, events
from .context import BuildContext
from .dockerfile import Instruction
from .filecopy import Item, Placer, is_archive, plain_walker, tree_walker
from .gitsource import is_git_url
from .imageview import ImageView, lookup_user
from .steps import PROXY_ARGS, StageState, command_form, workdir_path


def view_of(builder, image_id: str | None) -> ImageView:
    return ImageView(builder.parts.images.layer_dirs(image_id) if image_id else [])


def _epoch(builder):
    return builder.req.source_date_epoch


# ---- WORKDIR ----
def workdir(builder, state: StageState, ins: Instruction, slot: str) -> None:
    path = workdir_path(ins, state)
    state.config["WorkingDir"] = path
    text = f"/bin/sh -c #(nop) WORKDIR {path}"
    inputs = cache.StepInputs(state.image_id, text)
    if view_of(builder, state.image_id).is_dir(path):
        builder.cached_step(state, slot, inputs, lambda: builder.commit(state, text, None))
        return

    def make():
        from ..archive.export import write_tree_tar
        with _scratch_dir(builder) as tree:
            Placer(Path(tree), view_of(builder, state.image_id), None, None).make_parents(path + "/x")
            staged = builder.stage_layer(lambda out: write_tree_tar(Path(tree), out,
                                                                    source_date_epoch=_epoch(builder)))
        return builder.commit(state, text, staged)
    builder.cached_step(state, slot, inputs, make)


# ---- COPY / ADD ----
def copy(builder, state: StageState, ins: Instruction, slot: str) -> None:
    words = list(ins.args)
    dest = state.expand(words[-1])
    heredocs = {f"<<{h.name}": h for h in ins.heredocs}
    srcs = [w if _heredoc_word(w) else state.expand(w) for w in words[:-1]]
    from_ = state.expand(ins.flag("from")) if ins.flag("from") else None
    chown = state.expand(ins.flag("chown")) if ins.flag("chown") else None
    chmod = _chmod(state.expand(ins.flag("chmod"))) if ins.flag("chmod") else None
    if ins.flag("checksum") and ins.cmd == "ADD" and not all(_is_url(s) and not is_git_url(s) for s in srcs):
        raise InvalidArgument("checksum can't be specified for non-HTTP(S) sources")
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(_scratch_dir(builder)))
        files: dict[str, str] = {}
        if from_:
            src_image = builder.image_for(from_, state.stage)
            root = stack.enter_context(view_of(builder, src_image).mounted(scratch))
            source_ctx = BuildContext(Path(root))  # keyed on what is copied, not the stage's ID
        else:
            source_ctx = builder.req.context
        items, deferred = [], []
        for s in srcs:
            items += _items(builder, ins, state, s, source_ctx, heredocs, scratch, files, from_,
                            deferred)
        flags = " ".join(f for f in (f"--from={from_}" if from_ else "", f"--chown={chown}" if chown else "",
                                     f"--chmod={ins.flag('chmod')}" if chmod is not None else "") if f)
        text = f"{ins.cmd} {flags + ' ' if flags else ''}{json.dumps(srcs)} {dest} (workdir {state.config.get('WorkingDir') or '/'})"
        digest = cache.files_digest(files).split(":")[1]
        kind = "file" if len(items) == 1 and not stat.S_ISDIR(items[0].st.st_mode) else "dir"
        created_by = f"/bin/sh -c #(nop) {ins.cmd} {kind}:{digest} in {dest} "
        inputs = cache.StepInputs(state.image_id, text, files)

        def make():
            from ..archive.export import write_tree_tar
            view = view_of(builder, state.image_id)
            owner = lookup_user(view, chown) if chown else None
            tree = scratch / "tree"
            tree.mkdir()
            for fetch in deferred:  # sources whose key was known without fetching them (git)
                fetch()
            Placer(tree, view, owner, chmod).place(items, dest, state.config.get("WorkingDir") or "/", ins.cmd)
            staged = builder.stage_layer(lambda out: write_tree_tar(tree, out,
                                                                    source_date_epoch=_epoch(builder)))
            return builder.commit(state, created_by, staged)
        builder.cached_step(state, slot, inputs, make)


def _heredoc_word(word: str) -> bool:
    return word.startswith("<<")


def _is_url(s: str) -> bool:
    return s.startswith("http://") or s.startswith("https://")


def _chmod(text: str) -> int:
    try:
        mode = int(text, 8)
    except ValueError:
        raise InvalidArgument(f"invalid chmod parameter: {text}") from None
    if mode > 0o7777:
        raise InvalidArgument(f"invalid chmod parameter: {text}")
    return mode


def _items(builder, ins, state, word, source_ctx, heredocs, scratch, files, from_image: str | None,
           deferred: list) -> list[Item]:
    """The sources one COPY/ADD word names, their cache entries added to `files`: content
    digests for the context and, as BuildKit keys them, for an image or stage (`--from`), so a
    byte-identical copy stays cached when something else in that stage changed."""
    if _heredoc_word(word):
        name = word.lstrip("<-").strip("'\"")
        doc = heredocs.get(f"<<{name}")
        if doc is None:
            raise InvalidArgument(f"heredoc {word} has no content")
        content = state.expand(doc.content) if doc.expand else doc.content
        path = scratch / f"heredoc-{name}"
        path.write_text(content)
        os.chmod(path, 0o644)
        files[f"<<{name}"] = hashlib.sha256(content.encode()).hexdigest()
        return [Item(path, name, os.lstat(path))]
    if is_git_url(word):
        if ins.cmd != "ADD":
            raise InvalidArgument(f"source can't be a git repository for COPY: {word}")
        return [_git_item(word, ins, scratch, files, deferred)]
    if _is_url(word):
        if ins.cmd != "ADD":
            raise InvalidArgument(f"source can't be a URL for COPY: {word}")
        return [_download(word, ins.flag("checksum"), scratch, files)]
    out = []
    try:
        sources = source_ctx.sources(word)
    except NotFound as exc:  # the classic builder's words: "COPY failed: file not found ..."
        raise NotFound(f"{ins.cmd} failed: {exc}") from None
    for src in sources:
        digest, entries = source_ctx.source_digest(src)
        if from_image:
            entries = {f"--from={from_image} /{'' if rel == '.' else rel}": e for rel, e in entries.items()}
        files.update(entries)
        walker = tree_walker(source_ctx) if not from_image else plain_walker
        extract = ins.cmd == "ADD" and not from_image and stat.S_ISREG(src.st.st_mode) and is_archive(src.path)
        name = posixpath.basename(src.rel) or "."
        out.append(Item(src.path, name, src.st, walk=walker if stat.S_ISDIR(src.st.st_mode) else None,
                        extract=extract))
    if from_image:
        files[f"--from:{word}"] = "path"
    return out


def _git_item(word: str, ins, scratch: Path, files: dict, deferred: list) -> Item:
    """The repository's tree at the ref's commit, as a directory source. The commit is the
    cache key; the fetch itself waits until the step is not taken from the cache."""
    from . import gitsource
    url, ref, subdir = gitsource.split(word)
    commit = gitsource.resolve(url, ref)
    keep = (ins.flag("keep-git-dir") or "false").lower() in ("true", "1", "")
    files[word] = f"git {commit} {subdir} keep-git-dir={keep}"
    checkout = scratch / f"git-{len(files)}"
    root = checkout / subdir if subdir else checkout
    placeholder = scratch / f"git-{len(files)}-src"
    placeholder.mkdir(mode=0o755)

    def fetch():
        gitsource.checkout(url, commit, checkout, keep)
        if not root.is_dir():
            raise NotFound(f"{subdir}: no such directory in {url} at {commit[:12]}")
        placeholder.rmdir()
        os.symlink(root, placeholder)  # the Item's path, now the fetched tree
    deferred.append(fetch)
    return Item(placeholder, ".", os.lstat(placeholder), walk=plain_walker)


def _download(url: str, checksum: str | None, scratch: Path, files: dict) -> Item:
    import urllib.parse
    import urllib.request
    name = posixpath.basename(urllib.parse.urlparse(url).path) or "download"
    path = scratch / f"url-{hashlib.sha256(url.encode()).hexdigest()[:12]}"
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(path, "wb") as out:
            while chunk := resp.read(1 << 20):
                h.update(chunk)
                out.write(chunk)
    except OSError as exc:
        raise PalletError(f"failed to download {url}: {exc}") from exc
    got = "sha256:" + h.hexdigest()
    if checksum and checksum != got:
        raise InvalidArgument(f"digest mismatch {got}: {checksum}")
    os.chmod(path, 0o600)
    os.utime(path, (0, 0))
    files[url] = got
    return Item(path, name, os.lstat(path))


# ---- RUN ----
def run(builder, state: StageState, ins: Instruction, slot: str) -> None:
    from .runstep import parse_mount
    argv = _run_argv(ins, state)
    mounts = [parse_mount(state.expand(m)) for m in ins.flag_values("mount")]
    network = ins.flag("network") or builder.req.network
    if network not in (None, "none", "host", "default"):
        raise InvalidArgument(f"unsupported network mode for RUN: {network}")
    extra = {"mounts": ";".join(m.describe() for m in mounts)} if mounts else {}
    for m in mounts:
        if m.from_:
            extra[f"mount-from:{m.from_}"] = builder.image_for(m.from_, state.stage)
        elif m.type == "bind":
            digest, _ = builder.req.context.source_digest(builder.req.context.sources(m.source or ".")[0])
            extra[f"mount-context:{m.source}"] = digest
    args = builder.args_for_key(state)
    shown = " ".join(argv)
    created_by = (f"|{len(args)} " + " ".join(f"{k}={v}" for k, v in sorted(args.items())) + " " + shown
                  if args else shown)
    inputs = cache.StepInputs(state.image_id, "RUN " + json.dumps(argv), {}, args, extra)
    builder.cached_step(state, slot, inputs,
                        lambda: _run_make(builder, state, argv, mounts, network, created_by))


def _run_argv(ins: Instruction, state: StageState) -> list[str]:
    if ins.heredocs and not ins.json:
        first = ins.args[0].strip() if ins.args else ""
        if first.lstrip("<-").strip("'\"") == ins.heredocs[0].name:
            return state.shell() + [ins.heredocs[0].content]  # `RUN <<EOF` alone: the shell runs it
        body = ins.original.split(None, 1)[1]
        body = " ".join(w for w in body.split(" ") if not w.startswith("--")) if body.startswith("--") else body
        return state.shell() + [body]  # `RUN cat <<EOF > f`: sh reads the heredoc itself
    return command_form(ins, state)


def _run_make(builder, state, argv, mounts, network, created_by) -> str:
    from ..archive.export import write_diff_tar
    from .runstep import RunSpec, drop_runtime_artifacts, remove_container
    env = [f"{k}={v}" for k, v in state.args.items() if k not in state.env()]
    # the predefined proxy args reach RUN without an ARG line (and stay out of the cache key)
    env += [f"{k}={v}" for k, v in builder.req.build_args.items() if k in PROXY_ARGS and k not in state.args]
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(_scratch_dir(builder)))
        binds, tmpfs = _mount_sources(builder, state, mounts, stack, scratch, env)
        spec = RunSpec(state.image_id or _scratch_error(), argv, env, state.config.get("WorkingDir") or "",
                       state.config.get("User") or "", network if network not in (None, "default") else "none",
                       binds, tmpfs, builder.req.run_limits)
        cid, code = builder.parts.run_step(spec, builder.output,
                                           lambda c: builder.emit(events.Running(builder.vertex, c)))
        try:
            if code != 0:
                failed = PalletError(f"The command '{' '.join(argv)}' returned a non-zero code: {code}")
                failed.exit_code = code  # the classic builder's CLI exits with the step's code
                failed.buildkit_message = (f'process "{" ".join(argv)}" did not complete successfully: '
                                           f"exit code: {code}")
                raise failed
            upper = builder.parts.paths.container(cid) / "upper"
            view = view_of(builder, state.image_id)
            drop_runtime_artifacts(upper, view, [t for _, t, _ in binds] + tmpfs)
            staged = builder.stage_layer(lambda out: write_diff_tar(upper, [], out,
                                                                    source_date_epoch=_epoch(builder)))
        finally:
            remove_container(builder.parts.containers, cid)
            builder.emit(events.ContainerRemoved(builder.vertex, cid))
    return builder.commit(state, created_by, staged)


def _scratch_error() -> str:
    raise InvalidArgument("RUN needs a base image with a shell: this stage is FROM scratch with no layers")


def _mount_sources(builder, state, mounts, stack, scratch, env: list[str]):
    from .runstep import cache_dir
    binds, tmpfs = [], []
    for m in mounts:
        if m.type == "cache":
            binds.append((str(cache_dir(builder.parts.paths.root, m.id)), m.target, False))
        elif m.type == "tmpfs":
            tmpfs.append(m.target)
        elif m.type == "secret":
            _secret(builder, m, scratch, binds, env)
        else:
            if m.from_:
                root = stack.enter_context(view_of(builder, builder.image_for(m.from_, state.stage))
                                           .mounted(scratch))
                found = BuildContext(Path(root)).sources(m.source or "/")[0]
            else:
                found = builder.req.context.sources(m.source or ".")[0]
            source = str(found.path)
            if not m.read_only:  # rw: the command may write, into a copy thrown away after
                source = _scratch_copy(found.path, scratch / f"rw-{len(binds)}")
            binds.append((source, m.target, m.read_only))
    return binds, tmpfs


def _secret(builder, m, scratch: Path, binds: list, env: list[str]) -> None:
    """A secret as a read-only file (target, or /run/secrets/ID) and/or, with `env=`, as an
    environment variable of this RUN only: never in the image, its config or history."""
    src = builder.req.secrets.get(m.id)
    if src is None:
        if m.required:
            raise NotFound(f"secret {m.id}: not found")
        return
    if isinstance(src, bytes):
        path = scratch / f"secret-{len(binds)}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "wb") as f:
            f.write(src)
        src = str(path)
    if m.options.get("env"):
        with open(src, "rb") as f:
            env.append(f"{m.options['env']}={f.read().decode('utf-8', 'replace')}")
        if not m.options.get("explicit_target"):
            return  # env only, as BuildKit: no file unless a target is named
    binds.append((src, m.target, True))


def _scratch_copy(source: Path, dest: Path) -> str:
    import shutil
    if source.is_dir():  # through a tar, as every tree pallet writes from elsewhere
        from ..archive.unpack import copy_tree
        dest.mkdir()
        copy_tree(source, dest)
    else:
        shutil.copy2(source, dest)
    return str(dest)


def _scratch_dir(builder):
    """A scratch directory under ingest/ named for this process's lease (pallet.store.leases),
    so that what a killed build leaves there is swept."""
    from ..store.leases import scratch_prefix
    ingest = builder.parts.paths.ingest
    return tempfile.TemporaryDirectory(prefix=scratch_prefix(ingest) + "step-", dir=ingest)
