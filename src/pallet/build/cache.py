"""The layer cache: what a build step's result depends on, and why a step was not reused.

Owns: `StepInputs` (the inputs of one step), `cache_key(inputs)`, and
`miss_reason(before, now)`, the one line the build prints when a step runs
again (beyond Docker's builders, moby/buildkit#2567).

A key is sha256 over: the parent image ID, the instruction as it will run
(after variable substitution), the content digests of COPY/ADD sources
(names, types, modes, symlink targets, contents: never mtimes) and the build
args the step can see. Same key -> the step's earlier image is reused.
A step's "slot" (context + Dockerfile + stage + position) remembers the inputs
it saw last, so a miss can name the input that changed. Pure: no I/O.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

MAX_NAMED = 3


@dataclass
class StepInputs:
    parent: str | None
    text: str                                          # instruction after substitution
    files: dict[str, str] = field(default_factory=dict)  # context path -> entry digest
    args: dict[str, str] = field(default_factory=dict)   # build args the step sees
    extra: dict[str, str] = field(default_factory=dict)  # mounts, network, remote checksums

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> "StepInputs | None":
        if not text:
            return None
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            return None  # a record from another pallet version: treat as absent


def files_digest(files: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\0{files[name]}\n".encode("utf-8", "surrogateescape"))
    return "sha256:" + h.hexdigest()


def cache_key(inputs: StepInputs) -> str:
    doc = {"parent": inputs.parent, "text": inputs.text, "files": files_digest(inputs.files),
           "args": inputs.args, "extra": inputs.extra}
    return "sha256:" + hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def slot_id(context: str, dockerfile: str, stage: int, step: int) -> str:
    return hashlib.sha256(f"{context}\0{dockerfile}\0{stage}\0{step}".encode()).hexdigest()


def miss_reason(before: StepInputs | None, now: StepInputs) -> str:
    """Why a step could not be reused, naming the input that changed."""
    if before is None:
        return "no earlier build of this step"
    if before.files != now.files:
        return _files_changed(before.files, now.files)
    changed_args = sorted(k for k in set(before.args) | set(now.args)
                          if before.args.get(k) != now.args.get(k))
    if changed_args:
        return "build arg " + ", ".join(changed_args[:MAX_NAMED]) + " changed"
    if before.text != now.text:
        return f"instruction changed (was: {before.text})"
    if before.extra != now.extra:
        changed = sorted(k for k in set(before.extra) | set(now.extra)
                         if before.extra.get(k) != now.extra.get(k))
        return ", ".join(changed) + " changed"
    if before.parent != now.parent:
        return "parent image changed (an earlier step or the base image was rebuilt)"
    return "the cached result is gone (pruned or removed)"


def _files_changed(before: dict[str, str], now: dict[str, str]) -> str:
    changed = sorted(k for k in set(before) & set(now) if before[k] != now[k])
    added = sorted(set(now) - set(before))
    removed = sorted(set(before) - set(now))
    words = [f"{n} changed" for n in changed] + [f"{n} added" for n in added] + \
        [f"{n} removed" for n in removed]
    # a changed directory entry (its mode) is rarely the news; name files first
    words.sort(key=lambda w: now.get(w.rsplit(" ", 1)[0], before.get(w.rsplit(" ", 1)[0], "")).startswith("dir"))
    more = len(words) - MAX_NAMED
    return ", ".join(words[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")
