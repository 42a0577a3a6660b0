"""Build cache keys: parent + instruction + content (never mtimes), and the "why not cached" line."""
from __future__ import annotations

import os
import time

from pallet.build.cache import StepInputs, cache_key, miss_reason
from pallet.build.context import BuildContext


def _inputs(**kw):
    base = dict(parent="sha256:" + "a" * 64, text="COPY . /app", files={"app/main.py": "file 644 x"})
    base.update(kw)
    return StepInputs(**base)


def test_same_inputs_give_the_same_key():
    assert cache_key(_inputs()) == cache_key(_inputs())


def test_parent_text_files_and_args_all_change_the_key():
    k = cache_key(_inputs())
    assert cache_key(_inputs(parent="sha256:" + "b" * 64)) != k
    assert cache_key(_inputs(text="COPY . /srv")) != k
    assert cache_key(_inputs(files={"app/main.py": "file 644 y"})) != k
    assert cache_key(_inputs(args={"V": "1"})) != k


def test_miss_reason_names_the_changed_file():
    before, now = _inputs(), _inputs(files={"app/main.py": "file 644 y"})
    assert miss_reason(before, now) == "app/main.py changed"


def test_miss_reason_names_added_and_removed_files():
    now = _inputs(files={"app/new.py": "file 644 z"})
    assert miss_reason(_inputs(), now) == "app/new.py added, app/main.py removed"


def test_miss_reason_names_the_build_arg():
    assert miss_reason(_inputs(args={"V": "1"}), _inputs(args={"V": "2"})) == "build arg V changed"


def test_miss_reason_for_a_parent_change_and_a_first_build():
    assert "parent image changed" in miss_reason(_inputs(), _inputs(parent="sha256:" + "c" * 64))
    assert miss_reason(None, _inputs()) == "no earlier build of this step"
    assert "instruction changed" in miss_reason(_inputs(), _inputs(text="COPY . /srv"))


def test_inputs_round_trip_through_json():
    i = _inputs(args={"A": "b"}, extra={"mounts": "cache"})
    assert StepInputs.from_json(i.to_json()) == i
    assert StepInputs.from_json("not json") is None


def test_content_digest_ignores_mtime_but_not_content_or_mode(tmp_path):
    (tmp_path / "app").mkdir()
    f = tmp_path / "app" / "main.py"
    f.write_text("print(1)\n")
    ctx = BuildContext.from_dir(tmp_path)
    first, _ = ctx.source_digest(ctx.sources("app")[0])
    os.utime(f, (time.time() - 3600, time.time() - 3600))
    assert BuildContext.from_dir(tmp_path).source_digest(ctx.sources("app")[0])[0] == first
    os.chmod(f, 0o755)
    assert BuildContext.from_dir(tmp_path).source_digest(ctx.sources("app")[0])[0] != first
    os.chmod(f, 0o644)
    f.write_text("print(2)\n")
    assert BuildContext.from_dir(tmp_path).source_digest(ctx.sources("app")[0])[0] != first


def test_dockerignored_files_are_not_part_of_the_digest(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".dockerignore").write_text("*.log\n")
    ctx = BuildContext.from_dir(tmp_path)
    before, _ = ctx.source_digest(ctx.sources(".")[0])
    (tmp_path / "debug.log").write_text("noise")
    after, entries = BuildContext.from_dir(tmp_path).source_digest(ctx.sources(".")[0])
    assert before == after and "debug.log" not in entries
