"""The build executor: stages in order, steps through the cache, each result an image.

Owns: `BuildRequest`, `BuildResult`, and `Builder.run()`. Each step's result is
an untagged image in the store whose parent is the previous step's (Docker's
classic builder's intermediate images); RUN/COPY/ADD (and WORKDIR creating a
directory) add one layer, every other instruction only changes config and
history (`empty_layer`). A step is reused when its cache key (pallet.build.cache)
finds an image that still exists, or a `--cache-from` image recorded it
(pallet.build.cacheimport); otherwise the output says why, then the step runs. Only the stages the target needs are built; the final image holds only
the target stage's layers. Progress leaves as events (pallet.build.events), numbered
as BuildKit numbers its steps, through `emit(event)`: nothing here prints.

Reproducibility: with `source_date_epoch`, every `created` is that instant and
layer mtimes are clamped to it, so the same Dockerfile and context give the
same image ID wherever and whenever they are built (RUN commands that write
time or randomness aside).
"""
from __future__ import annotations

import contextlib
import copy
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import BinaryIO, Callable

from .. import crash_point
from ..errors import DataCorrupted, InvalidArgument, NotFound, PalletError
from ..oci import image as oci
from . import cache, cacheimport, events, inlinecache, stepnames
from .context import BuildContext
from .dockerfile import Dockerfile, Instruction, Stage, parse_line
from .steps import CONFIG_ONLY, PROXY_ARGS, StageState, apply_config, declare_arg, platform_args
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
    run_limits: object | None = None                 # runstep.RunLimits for every RUN
    pull: bool = False                               # --pull: fetch every FROM image again
    cache_from: list[str] = field(default_factory=list)  # images whose inline cache seeds this build


@dataclass
class BuildResult:
    image_id: str
    tags: list[str]
    cached_steps: int
    built_steps: int
    unused_args: list[str]


LAYER_STEPS = ("RUN", "COPY", "ADD", "WORKDIR")  # BuildKit shows a step for these (and FROM)


class Builder:
    def __init__(self, parts, req: BuildRequest, emit: Callable[[object], None],
                 want_output: bool = True):
        # `parts`: what a build uses, as the build service holds it (paths, db, locks, layers,
        # image_store, images, registry, containers, run_step(spec, output, on_created))
        self.parts, self.req, self.emit = parts, req, emit
        self.output = stepnames.OutputEvents(self) if want_output else None  # RUN's output, as events
        self.db = parts.db
        self.step_no = 0
        self.total = 0
        self.cached = self.built = 0
        self.stage_images: dict[int, str | None] = {}
        self.used_args: set[str] = set()
        self.vertex_no = 0
        self.vertex: int | None = None       # BuildKit's number of the running step
        self.step_started = 0.0
        self.stage_step = (0, 0)             # BuildKit's [k/n] in the current stage
        self.context_loaded = False
        self.vertex_name = ""
        self.step_images: list[tuple[str, str]] = []   # (cache key, image) of every step, in order
        self.cache_sources: list[inlinecache.CacheSource] = []

    def next_vertex(self) -> int:
        self.vertex_no += 1
        return self.vertex_no

    # ---- stages ----
    def run(self) -> BuildResult:
        df = self.req.dockerfile
        meta = platform_args()
        for ins in df.meta_args:
            for word in ins.args:
                declare_arg(word, meta, {**meta}, df.escape, self.req.build_args, {})
        self.meta = meta
        self.used_args |= {w.partition("=")[0] for ins in df.meta_args for w in ins.args}
        target = self._target()
        stages = self._needed(target)
        self.total = sum(1 + len(s.instructions) for s in stages) + (1 if self.req.labels else 0)
        stepnames.internal_steps(self, stages)
        with self.parts.locks.in_flight():
            self.cache_sources = cacheimport.load_sources(self)
            for stage in stages:
                state = self._build_stage(stage, last=stage is target)
                self.stage_images[stage.index] = self._ensure_image(state)
            final = self.stage_images[target.index]
            inline = inlinecache.wanted(self.req.build_args)
            if inline:
                final = cacheimport.export(self, final)
            self._tag(final)
        self.emit(events.Internal(self.next_vertex(), "exporting to image", [
            "exporting layers done", *(["preparing layers for inline cache done"] if inline else []),
            f"writing image {final} done", *(f"naming to {t} done" for t in self.req.tags)]))
        unused = sorted(set(self.req.build_args) - self.used_args - PROXY_ARGS - {inlinecache.BUILD_ARG})
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
        total = 1 + sum(1 for ins in stage.instructions if ins.cmd in LAYER_STEPS)
        self.stage_step = (0, total)
        state = self._from(stage)
        triggers = list(state.config.pop("OnBuild", None) or [])
        if triggers:
            self.emit(events.Message(None, f"# Executing {len(triggers)} build trigger"
                                           f"{'s' if len(triggers) > 1 else ''}"))
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
        base = expand(stage.base, self.meta, self.req.dockerfile.escape)
        dep = self.stage_named(base, stage.index)
        external = dep is None and base.lower() != "scratch"
        self._header(stage.from_instruction, stage, vertex=external,
                     shown=f"FROM {stepnames.full_name(base)}" if external else None)
        pulled = False
        with self._failing(stage.from_instruction):
            if dep is not None:
                image_id = self.stage_images[dep.index]
            elif not external:
                image_id = None
            else:
                pulled = self.req.pull or not self.parts.images.exists(base)
                image_id = self._base_image(base, pulled)
        if image_id is None:
            doc = oci.new_config([], {}, [], self.created())
        else:
            doc = copy.deepcopy(self.parts.images.config(image_id))
        self.emit(events.BaseImage(self.vertex, image_id, pulled, time.monotonic() - self.step_started))
        for key in ("container", "container_config", "docker_version", inlinecache.CONFIG_KEY):
            doc.pop(key, None)
        _default_path(doc)
        return StageState(stage, image_id, doc, {}, self.req.dockerfile.escape)

    # ---- steps ----
    def _header(self, ins: Instruction, stage: Stage, vertex: bool, shown: str | None = None) -> None:
        """The step starts: the classic builder's `Step k/N`, BuildKit's `#v [stage k/n] ...`."""
        self.step_no += 1
        k, n = self.stage_step
        if vertex or ins.cmd == "FROM":  # BuildKit counts FROM and the steps it shows
            k += 1
            self.stage_step = (k, n)
        text = ins.original.splitlines()[0].strip()
        self.vertex = self.next_vertex() if vertex else None
        self.step_started = time.monotonic()
        width = len(str(n))
        label = stage.name or (f"stage-{stage.index}" if len(self.req.dockerfile.stages) > 1 else "")
        name = f"[{label + ' ' if label else ''}{k:>{width}}/{n}] {shown or stepnames.one_line(ins.original)}"
        self.vertex_name = name
        self.emit(events.Step(self.vertex, name, self.step_no, self.total, text))

    def _step(self, state: StageState, ins: Instruction, position: str, header: bool = True) -> None:
        from . import layersteps
        layer = ins.cmd in LAYER_STEPS
        if ins.cmd in ("COPY", "ADD") and not ins.flag("from") and not self.context_loaded:
            self.context_loaded = True  # BuildKit sends the context before the first copy from it
            from ..opts.units import human_size
            size = human_size(self.req.context.transfer_size())
            self.emit(events.Internal(self.next_vertex(), "[internal] load build context",
                                      [f"transferring context: {size} done"]))
        if header:
            self._header(ins, state.stage, vertex=layer)
        else:  # an ONBUILD trigger: BuildKit shows it as a step of the stage
            self.vertex = self.next_vertex() if layer else None
            self.step_started = time.monotonic()
            k, n = self.stage_step
            self.vertex_name = f"[{k}/{n}] ONBUILD {stepnames.one_line(ins.original)}"
            if layer:
                self.emit(events.Step(self.vertex, self.vertex_name, self.step_no, self.total,
                                      ins.original))
        slot = cache.slot_id(self.req.context_id, self.req.dockerfile.filename,
                             state.stage.index, position)
        with self._failing(ins):
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

    @contextlib.contextmanager
    def _failing(self, ins: Instruction):
        """A step's error becomes a StepFailed event (BuildKit's `#v ERROR`), then propagates."""
        vertex, name = self.vertex, self.vertex_name
        try:
            yield
        except PalletError as exc:
            message = getattr(exc, "buildkit_message", None) or str(exc)
            df = self.req.dockerfile
            self.emit(events.StepFailed(vertex, name, message,
                                        (ins.line, max(ins.line, ins.end_line)),
                                        df.filename, df.source))
            raise

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
            self.emit(events.Cached(self.vertex, hit))
            self.cached += 1
            state.image_id, state.doc = hit, copy.deepcopy(self.parts.images.config(hit))
        elif not self.req.no_cache and cacheimport.take_step(self, state, key):
            self.emit(events.Cached(self.vertex, state.image_id))
            self.cached += 1
        else:
            previous = cache.StepInputs.from_json(self.db.build_step_inputs(slot))
            reason = "--no-cache" if self.req.no_cache else cache.miss_reason(previous, inputs)
            self.emit(events.Miss(self.vertex, reason))
            self.built += 1
            make()
        with self.db.transaction():
            self.db.build_cache_put(key, state.image_id)
            self.db.set_build_step_inputs(slot, inputs.to_json())
        self.step_images.append((key, state.image_id))
        self.emit(events.StepDone(self.vertex, state.image_id, time.monotonic() - self.step_started))

    # ---- images ----
    def created(self) -> str:
        epoch = self.req.source_date_epoch
        return oci.rfc3339_ts(epoch) if epoch is not None else oci.now_rfc3339()

    def commit(self, state: StageState, created_by: str, staged) -> str:
        """A new image: the state's config plus one history entry (and one layer when staged)."""
        ts = self.created()
        entry = {"created": ts, "created_by": created_by}
        if staged is None:
            entry["empty_layer"] = True
        return self.commit_entry(state, entry, staged.diff_id if staged else None,
                                 {staged.diff_id: staged} if staged else {})

    def commit_entry(self, state: StageState, entry: dict, diff_id: str | None, staged: dict) -> str:
        """The state's config plus the history `entry` (and the layer `diff_id`, stored or in
        `staged`) as the step's image, whose parent is the state's image."""
        doc = copy.deepcopy(state.doc)
        doc["created"] = entry.get("created")
        if diff_id is not None:
            doc.setdefault("rootfs", {"type": "layers", "diff_ids": []})["diff_ids"].append(diff_id)
        doc.setdefault("history", []).append(dict(entry))
        try:
            result = self.parts.image_store.commit(oci.encode(doc), staged, parent=state.image_id)
        finally:
            for layer in staged.values():
                layer.release()
        state.image_id, state.doc = result.image_id, doc
        return result.image_id

    def stage_layer(self, write: Callable[[BinaryIO], str]):
        """Write a layer tar with `write(out) -> diff_id` and stage it in the layer store."""
        self.parts.paths.ingest.mkdir(parents=True, exist_ok=True)
        from ..store.leases import scratch_prefix
        fd, tmp = tempfile.mkstemp(prefix=scratch_prefix(self.parts.paths.ingest) + "layer-",
                                   dir=self.parts.paths.ingest)
        try:
            with os.fdopen(fd, "w+b") as f:
                diff_id = write(f)
                crash_point("build:layer-tar-written")
                f.seek(0)
                staged = self.parts.layers.stage(f)
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

    def _base_image(self, name: str, pull: bool) -> str:
        """FROM an image that is not stored (or any, with --pull) is pulled first, as Docker does."""
        if pull:
            self.parts.registry.pull(name, _PullMessages(self))
        return self.parts.images.resolve(name)

    def image_for(self, name: str, stage: Stage) -> str:
        """An earlier stage's result or any stored image (COPY --from, RUN --mount from=)."""
        dep = self.stage_named(name, stage.index)
        if dep is not None:
            if dep.index not in self.stage_images:
                raise PalletError(f"stage {name} was not built")
            return self.stage_images[dep.index]
        try:
            return self.parts.images.resolve(name)
        except NotFound as exc:
            raise NotFound(f"invalid from flag value {name}: no build stage or image named {name!r}") from exc

    def _tag(self, image_id: str) -> None:
        if not self.req.tags:
            return
        with self.db.transaction():
            for tag in self.req.tags:
                self.db.set_tag(tag, image_id)


short = events.short


DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _default_path(doc: dict) -> None:
    """Docker's builders (classic and BuildKit) give a stage the default PATH when its base
    has none, so an image built on an imported rootfs or scratch carries one."""
    cfg = doc.setdefault("config", {})
    env = cfg.get("Env") or []
    if not any(e.split("=", 1)[0] == "PATH" for e in env):
        cfg["Env"] = [*env, "PATH=" + DEFAULT_PATH]


class _PullMessages:
    """A FROM's pull, as the build's output shows it: the pull's lines and each layer's
    status change (no byte counts, as a pull shows off a terminal). Layers report from
    worker threads: one at a time."""

    def __init__(self, builder):
        import threading
        self.builder, self.status, self.lock = builder, {}, threading.Lock()

    def line(self, text: str) -> None:
        with self.lock:
            self.builder.emit(events.Message(self.builder.vertex, text))

    def layer(self, layer_id: str, status: str, total: int | None = None) -> None:
        with self.lock:
            if self.status.get(layer_id) == status:
                return
            self.status[layer_id] = status
            self.builder.emit(events.Message(self.builder.vertex, f"{layer_id}: {status}"))

    def advance(self, layer_id: str, n: int) -> None:
        pass

    def close(self) -> None:
        pass
