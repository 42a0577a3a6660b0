"""The build context: sources stay inside it, globs, and .dockerignore applied to COPY."""
from __future__ import annotations

import os

import pytest

from pallet.build.context import BuildContext
from pallet.errors import InvalidArgument, NotFound


@pytest.fixture
def ctx_dir(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("a")
    (tmp_path / "src" / "b.txt").write_text("b")
    (tmp_path / "secret.key").write_text("k")
    (tmp_path / ".dockerignore").write_text("secret.key\n")
    return tmp_path


def test_parent_directory_sources_are_forbidden(ctx_dir):
    with pytest.raises(InvalidArgument, match="forbidden path outside the build context: ../outside"):
        BuildContext.from_dir(ctx_dir).sources("../outside")


def test_missing_and_ignored_sources_are_not_found(ctx_dir):
    ctx = BuildContext.from_dir(ctx_dir)
    with pytest.raises(NotFound, match="file not found in build context or excluded by .dockerignore"):
        ctx.sources("nope.txt")
    with pytest.raises(NotFound, match="excluded by .dockerignore"):
        ctx.sources("secret.key")


def test_globs_match_within_one_directory_level(ctx_dir):
    ctx = BuildContext.from_dir(ctx_dir)
    assert [s.rel for s in ctx.sources("src/*.py")] == ["src/a.py"]
    with pytest.raises(NotFound):
        ctx.sources("*.nothing")


def test_symlink_to_host_path_resolves_inside_the_context(ctx_dir):
    os.symlink("/etc/passwd", ctx_dir / "link")
    with pytest.raises(NotFound):
        BuildContext.from_dir(ctx_dir).sources("link")     # <context>/etc/passwd does not exist
    os.symlink("../../../../../../etc", ctx_dir / "up")
    with pytest.raises(NotFound):
        BuildContext.from_dir(ctx_dir).sources("up/passwd")


def test_symlink_inside_the_context_is_followed(ctx_dir):
    os.symlink("src/a.py", ctx_dir / "alias")
    [src] = BuildContext.from_dir(ctx_dir).sources("alias")
    assert src.rel == "src/a.py"


def test_walk_skips_ignored_entries(ctx_dir):
    names = [rel for rel, _ in BuildContext.from_dir(ctx_dir).walk("")]
    assert "secret.key" not in names and "src/a.py" in names
