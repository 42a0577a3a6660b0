"""`docker commit`: a container's writable layer becomes the top layer of a new image.

Owns: the config of the committed image (the container's Config over the
image's, `-c` instructions applied, history and author added) and the layer
pipeline: `write_diff_tar` (overlay whiteouts -> `.wh.` entries) streamed
through a pipe into `LayerStore.stage`, then `ImageStore.commit`, the one way
an image becomes visible. Nothing is staged on disk twice.

Invariants: the container is paused during the copy when asked (Docker's
default) and unpaused whatever happens; its upper dir and record are never
changed; the staged diff_id must equal the one the writer hashed.
"""
from __future__ import annotations

from ...errors import DataCorrupted

# Empty files runc makes to bind-mount these onto: not the container's changes (Docker's init layer).
RUNTIME_MOUNT_POINTS = frozenset({"etc/hosts", "etc/hostname", "etc/resolv.conf"})

# Container Config fields an image keeps (Hostname, Tty, stdin flags, Image are per-container).
IMAGE_FIELDS = ("User", "ExposedPorts", "Env", "Cmd", "Healthcheck", "Volumes", "WorkingDir",
                "Entrypoint", "OnBuild", "Labels", "StopSignal", "Shell")


def commit(fs, ref: str, repository: str | None, author: str, message: str,
           changes: list[str], pause: bool) -> str:
    from ... import reference
    svc = fs.containers
    cid = svc.resolve(ref)
    record = svc.get(cid)
    tag = str(reference.parse_repository_tag(repository).tagged()) if repository else None
    config_doc = fs.images.config(record["Image"])
    paused_here = pause and record["State"]["Running"] and not record["State"]["Paused"]
    try:
        if paused_here:  # inside the try: interrupted half-way, it is undone all the same
            svc.pause(cid)
            _hold_for_tests()
        with fs.locks.in_flight():
            staged = _stage_upper(fs.layers, fs.paths.container(cid) / "upper")
            try:
                doc = _config(config_doc, record, staged.diff_id, author, message, changes)
                from ...oci import image as oci
                result = fs.image_store.commit(oci.encode(doc), {staged.diff_id: staged},
                                                   [tag] if tag else [], parent=record["Image"])
            finally:
                staged.release()
    finally:
        if paused_here:
            _unpause(svc, cid)
    return result.image_id


def _unpause(svc, cid: str) -> None:
    """Thaw what this commit froze; the freezer says whether it got that far."""
    from ...errors import Conflict, NotFound
    try:
        svc.unpause(cid)
    except (Conflict, NotFound):
        pass  # never paused, exited or removed meanwhile: nothing to thaw


def _hold_for_tests() -> None:
    """Tests kill a commit while its container is frozen: with PALLET_TEST_COMMIT_HOLD set
    to a path, commit creates that file once the container is paused and waits there."""
    import os
    hold = os.environ.get("PALLET_TEST_COMMIT_HOLD")
    if hold:
        import time
        open(hold, "w").close()
        time.sleep(60)


def _stage_upper(layers, upper):
    from ...archive.export import write_diff_tar
    from ...archive.unpack import piped
    written: list[str] = []
    with piped(lambda out: written.append(
            write_diff_tar(upper, [], out, skip_empty=RUNTIME_MOUNT_POINTS))) as reader:
        staged = layers.stage(reader)
    if written and written[0] != staged.diff_id:
        staged.release()
        raise DataCorrupted(f"committed layer changed while written: {written[0]} != {staged.diff_id}")
    return staged


def _config(base: dict, record: dict, diff_id: str, author: str, message: str,
            changes: list[str]) -> dict:
    from ...oci import image as oci
    from ...opts.changes import apply_changes
    cfg = dict(base.get("config") or {})
    for key in IMAGE_FIELDS:
        if record["Config"].get(key) not in (None, "", [], {}):
            cfg[key] = record["Config"][key]
    cfg = apply_changes(cfg, changes)
    created = oci.now_rfc3339()
    entry = {"created": created, "created_by": " ".join([record["Path"], *record["Args"]])}
    if author:
        entry["author"] = author
    if message:
        entry["comment"] = message
    history = list(base.get("history") or []) + [entry]
    doc = oci.new_config(oci.diff_ids(base) + [diff_id], cfg, history, created, author)
    for key in ("architecture", "os", "variant"):
        if base.get(key):
            doc[key] = base[key]
    return doc
