"""The build executor: stages in order, steps through the cache, each result an image.

Owns: `BuildRequest`, `BuildResult`, and `Builder.run()`. Each step's result is
an untagged image in the store whose parent is the previous step's (Docker's
classic builder's intermediate images); RUN/COPY/ADD (and WORKDIR creating a
directory) add one layer, every other instruction only changes config and
history (`empty_layer`). A step is reused when its cache key (pallet.build.cache)
finds an image that still exists; otherwise the output says why, then the step
runs. Only the stages the target needs are built; the final image holds only
the target stage's layers. Output leaves through `emit(line)` and, for RUN,
the `output` binary stream: nothing here prints.

Reproducibility: with `source_date_epoch`, every `created` is that instant and
layer mtimes are clamped to it, so the same Dockerfile and context give the
same image ID wherever and whenever they are built (RUN commands that write
time or randomness aside).
"""
from __future__ import annotations

import copy
import os
import tempfile
from dataclasses import dataclass, field
from typing import BinaryIO, Callable

from .. import crash_point
from ..errors import DataCorrupted, InvalidArgument, NotFound, PalletError
from ..oci import image as oci
from . import cache
from .context import BuildContext
from .dockerfile import Dockerfile, Instruction, Stage, parse_line
from .steps import CONFIG_ONLY, PROXY_ARGS, StageState, apply_config, declare_arg
from .substitution import expand


@dataclass
class BuildRequest:
    context: BuildContext
    dockerfile: Dockerfile
    context_id: str                                  # names the step slots ("why not cached")
    tags: list[str] = field(default_factory=list)    # full names: docker.io/library/app:1
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    network: str | None = None                       # None: the container service's default
    secrets: dict = field(default_factory=dict)   # id -> host file, or the secret's bytes
    source_date_epoch: int | None = None


@dataclass
class BuildResult:
    image_id: str
    tags: list[str]
    cached_steps: int
    built_steps: int
    unused_args: list[str]


class Builder:
    def __init__(self, engine, req: BuildRequest, emit: Callable[[str], None],
                 output: BinaryIO | None = None):
        self.engine, self.req, self.emit, self.output = engine, req, emit, output
        self.db = engine.db
        self.step_no = 0
        self.total = 0
        self.cached = self.built = 0
        self.stage_images: dict[int, str | None] = {}
        self.used_args: set[str] = set()

    # ---- stages ----
    def run(self) -> BuildResult:
        df = self.req.dockerfile
        meta: dict[str, str] = {}
        for ins in df.meta_args:
            for word in ins.args:
                declare_arg(word, meta, {**meta}, df.escape, self.req.build_args, {})
        self.meta = meta
        self.used_args |= {w.partition("=")[0] for ins in df.meta_args for w in ins.args}
        target = self._target()
        stages = self._needed(target)
        self.total = sum(1 + len(s.instructions) for s in stages) + (1 if self.req.labels else 0)
        with self.engine.locks.in_flight():
            for stage in stages:
                state = self._build_stage(stage, last=stage is target)
                self.stage_images[stage.index] = self._ensure_image(state)
            final = self.stage_images[target.index]
            self._tag(final)
        unused = sorted(set(self.req.build_args) - self.used_args - PROXY_ARGS)
        return BuildResult(final, list(self.req.tags), self.cached, self.built, unused)

    def _target(self) -> Stage:
        stages = self.req.dockerfile.stages
        if self.req.target is None:
            return stages[-1]
        for s in stages:
            if s.name == self.req.target.lower():
                return s
        raise NotFound(f"failed to reach build target {self.req.target} in Dockerfile")

    def stage_named(self, name: str, before: int) -> Stage | None:
        for s in self.req.dockerfile.stages[:before]:
            if s.name == name.lower() or (name.isdigit() and s.index == int(name)):
                return s
        return None

    def _needed(self, target: Stage) -> list[Stage]:
        need: set[int] = set()

        def visit(stage: Stage) -> None:
            if stage.index in need:
                return
            need.add(stage.index)
            refs = [expand(stage.base, self.meta, self.req.dockerfile.escape)]
            for ins in stage.instructions:
                refs += [v for v in ins.flag_values("from")]
                refs += [m.partition("from=")[2].split(",")[0] for m in ins.flag_values("mount")
                         if "from=" in m]
            for ref in refs:
                dep = self.stage_named(ref, stage.index)
                if dep is not None:
                    visit(dep)
        visit(target)
        return [s for s in self.req.dockerfile.stages if s.index in need]

    def _build_stage(self, stage: Stage, last: bool) -> StageState:
        state = self._from(stage)
        triggers = list(state.config.pop("OnBuild", None) or [])
        if triggers:
            self.emit(f"# Executing {len(triggers)} build trigger{'s' if len(triggers) > 1 else ''}")
        for i, text in enumerate(triggers):
            self._step(state, parse_line(text), f"onbuild-{i}", header=False)
        for i, ins in enumerate(stage.instructions):
            self._step(state, ins, str(i))
        if last and self.req.labels:
            label = Instruction("LABEL", tuple(x for kv in sorted(self.req.labels.items()) for x in kv),
                                (), False, "LABEL " + " ".join(f'"{k}"="{v}"' for k, v in
                                                               sorted(self.req.labels.items())), 0)
            self._step(state, label, "cli-labels")
        return state

    def _from(self, stage: Stage) -> StageState:
        self._header(stage.from_instruction)
        base = expand(stage.base, self.meta, self.req.dockerfile.escape)
        dep = self.stage_named(base, stage.index)
        if dep is not None:
            image_id = self.stage_images[dep.index]
        elif base.lower() == "scratch":
            image_id = None
        else:
            image_id = self._base_image(base)
        if image_id is None:
            doc = oci.new_config([], {}, [], self.created())
            self.emit(" ---> scratch")
        else:
            doc = copy.deepcopy(self.engine.images.config(image_id))
            self.emit(f" ---> {short(image_id)}")
        for key in ("container", "container_config", "docker_version"):
            doc.pop(key, None)
        _default_path(doc)
        return StageState(stage, image_id, doc, {}, self.req.dockerfile.escape)

    # ---- steps ----
    def _header(self, ins: Instruction) -> None:
        self.step_no += 1
        self.emit(f"Step {self.step_no}/{self.total} : {ins.original.splitlines()[0].strip()}")

    def _step(self, state: StageState, ins: Instruction, position: str, header: bool = True) -> None:
        from . import layersteps
        if header:
            self._header(ins)
        slot = cache.slot_id(self.req.context_id, self.req.dockerfile.filename,
                             state.stage.index, position)
        if ins.cmd in CONFIG_ONLY:
            self._config_step(state, ins, slot)
        elif ins.cmd == "WORKDIR":
            layersteps.workdir(self, state, ins, slot)
        elif ins.cmd in ("COPY", "ADD"):
            layersteps.copy(self, state, ins, slot)
        elif ins.cmd == "RUN":
            layersteps.run(self, state, ins, slot)
        else:
            raise InvalidArgument(f"{ins.cmd} is not allowed here (line {ins.line})")

    def _config_step(self, state: StageState, ins: Instruction, slot: str) -> None:
        before = state.image_id
        if ins.cmd == "ARG":
            self.used_args |= {expand(w.partition("=")[0], state.variables(), state.escape)
                               for w in ins.args}
        history = apply_config(ins, state, self.req.build_args, self.meta)
        inputs = cache.StepInputs(before, history, args=self.args_for_key(state) if ins.cmd == "ARG" else {})
        self.cached_step(state, slot, inputs, lambda: self.commit(state, history, None))

    def args_for_key(self, state: StageState) -> dict[str, str]:
        return {k: v for k, v in state.args.items() if k not in PROXY_ARGS}

    def cached_step(self, state: StageState, slot: str, inputs: cache.StepInputs,
                    make: Callable[[], str]) -> None:
        """Reuse the image a step with the same key made, or make it and remember it."""
        key = cache.cache_key(inputs)
        hit = None if self.req.no_cache else self.db.build_cache_get(key)
        if hit and self.db.image(hit):
            self.emit(" ---> Using cache")
            self.cached += 1
            state.image_id, state.doc = hit, copy.deepcopy(self.engine.images.config(hit))
        else:
            previous = cache.StepInputs.from_json(self.db.build_step_inputs(slot))
            reason = "--no-cache" if self.req.no_cache else cache.miss_reason(previous, inputs)
            self.emit(f" ---> Cache miss: {reason}")
            self.built += 1
            make()
        with self.db.transaction():
            self.db.build_cache_put(key, state.image_id)
            self.db.set_build_step_inputs(slot, inputs.to_json())
        self.emit(f" ---> {short(state.image_id)}")

    # ---- images ----
    def created(self) -> str:
        epoch = self.req.source_date_epoch
        return oci.rfc3339_ts(epoch) if epoch is not None else oci.now_rfc3339()

    def commit(self, state: StageState, created_by: str, staged) -> str:
        """A new image: the state's config plus one history entry (and one layer when staged)."""
        doc = copy.deepcopy(state.doc)
        ts = self.created()
        doc["created"] = ts
        entry = {"created": ts, "created_by": created_by}
        if staged is None:
            entry["empty_layer"] = True
        else:
            doc.setdefault("rootfs", {"type": "layers", "diff_ids": []})["diff_ids"].append(staged.diff_id)
        doc.setdefault("history", []).append(entry)
        try:
            result = self.engine.image_store.commit(oci.encode(doc), {staged.diff_id: staged} if staged else {},
                                                    parent=state.image_id)
        finally:
            if staged is not None:
                staged.release()
        state.image_id, state.doc = result.image_id, doc
        return result.image_id

    def stage_layer(self, write: Callable[[BinaryIO], str]):
        """Write a layer tar with `write(out) -> diff_id` and stage it in the layer store."""
        self.engine.paths.ingest.mkdir(parents=True, exist_ok=True)
        from ..store.leases import scratch_prefix
        fd, tmp = tempfile.mkstemp(prefix=scratch_prefix(self.engine.paths.ingest) + "layer-",
                                   dir=self.engine.paths.ingest)
        try:
            with os.fdopen(fd, "w+b") as f:
                diff_id = write(f)
                crash_point("build:layer-tar-written")
                f.seek(0)
                staged = self.engine.layers.stage(f)
        finally:
            os.unlink(tmp)
        if staged.diff_id != diff_id:
            staged.release()
            raise DataCorrupted(f"build layer changed while being staged: {diff_id} != {staged.diff_id}")
        return staged

    def _ensure_image(self, state: StageState) -> str:
        if state.image_id is None:  # FROM scratch with nothing else: an empty image
            self.commit(state, "/bin/sh -c #(nop)  FROM scratch", None)
        return state.image_id

    def _base_image(self, name: str) -> str:
        """FROM an image that is not stored pulls it first, as Docker does."""
        if not self.engine.images.exists(name):
            from ..registry.progress import Progress

            class _Lines:  # the pull's plain progress lines join the build output
                def __init__(self, emit):
                    self.emit, self.buf = emit, ""

                def write(self, text):
                    self.buf += text
                    *lines, self.buf = self.buf.split("\n")
                    for line in lines:
                        self.emit(line)

                def flush(self):
                    pass
            self.engine.registry.pull(name, Progress(_Lines(self.emit)))
        return self.engine.images.resolve(name)

    def image_for(self, name: str, stage: Stage) -> str:
        """An earlier stage's result or any stored image (COPY --from, RUN --mount from=)."""
        dep = self.stage_named(name, stage.index)
        if dep is not None:
            if dep.index not in self.stage_images:
                raise PalletError(f"stage {name} was not built")
            return self.stage_images[dep.index]
        try:
            return self.engine.images.resolve(name)
        except NotFound as exc:
            raise NotFound(f"invalid from flag value {name}: no build stage or image named {name!r}") from exc

    def _tag(self, image_id: str) -> None:
        if not self.req.tags:
            return
        with self.db.transaction():
            for tag in self.req.tags:
                self.db.set_tag(tag, image_id)


def short(image_id: str) -> str:
    return image_id.split(":", 1)[-1][:12]


DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _default_path(doc: dict) -> None:
    """Docker's builders (classic and BuildKit) give a stage the default PATH when its base
    has none, so an image built on an imported rootfs or scratch carries one."""
    cfg = doc.setdefault("config", {})
    env = cfg.get("Env") or []
    if not any(e.split("=", 1)[0] == "PATH" for e in env):
        cfg["Env"] = [*env, "PATH=" + DEFAULT_PATH]
