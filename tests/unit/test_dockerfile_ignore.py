""".dockerignore with Docker's semantics: Go filepath.Match, `**`, `!` exceptions, leading `/`."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from pallet.build.dockerignore import Matcher, read_patterns


def test_comments_and_blank_lines_are_dropped():
    assert read_patterns("# c\n\n  *.log  \n!keep.log\n") == ["*.log", "!keep.log"]


@pytest.mark.parametrize("patterns, path, excluded", [
    (["*.log"], "a.log", True),
    (["*.log"], "dir/a.log", False),           # * does not cross /
    (["**/*.log"], "dir/sub/a.log", True),
    (["**/*.log"], "a.log", True),
    (["/secret"], "secret", True),             # leading / is the context root
    (["./secret"], "secret", True),
    (["node_modules"], "node_modules/x/y.js", True),   # a parent matching excludes children
    (["*.log", "!keep.log"], "keep.log", False),
    (["!keep.log", "*.log"], "keep.log", True),         # the last match wins
    (["docs", "!docs/README.md"], "docs/README.md", False),
    (["docs", "!docs/README.md"], "docs/other.md", True),
    (["a?c"], "abc", True),
    (["a?c"], "a/c", False),
    (["[a-c]x"], "bx", True),
    (["[!a-c]x"], "bx", False),
    (["dir/**"], "dir/a/b", True),
    (["dir/**"], "dirx", False),
    (["**"], "anything/at/all", True),
    (["tmp*"], "tmpfile", True),
])
def test_matcher_follows_docker(patterns, path, excluded):
    assert Matcher(patterns).excluded(path) is excluded


@given(st.lists(st.sampled_from(["a", "b", "c.txt", "d"]), min_size=1, max_size=4))
def test_exact_pattern_excludes_the_path_and_everything_under_it(parts):
    path = "/".join(parts)
    m = Matcher([parts[0]])
    assert m.excluded(path)


@given(st.text(alphabet="abcxyz.", min_size=1, max_size=10))
def test_a_lone_exception_never_excludes(name):
    assert not Matcher(["!" + name]).excluded(name)
