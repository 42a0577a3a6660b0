"""ADD of a git repository, with BuildKit's syntax: `ADD <url>[#<ref>[:<subdir>]] <dest>`.

A source is a git URL when it starts with git://, git@ or ssh://, or is http(s) and its
path ends in `.git` (the fragment names a branch, tag or commit and a subdirectory).
The ref is resolved with `git ls-remote` on every build, so the step's cache key is the
commit (a new commit on the branch rebuilds, an unchanged one is CACHED); then that commit
alone is fetched into a scratch directory. The `.git` directory is left out unless
`--keep-git-dir=true`. Errors name the URL and what git said.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from ..errors import InvalidArgument, PalletError

_SHA = re.compile(r"[0-9a-f]{40}")


def is_git_url(word: str) -> bool:
    base = word.split("#", 1)[0]
    if base.startswith(("git://", "git@", "ssh://")):
        return True
    return base.startswith(("http://", "https://")) and base.rstrip("/").endswith(".git")


def split(word: str) -> tuple[str, str, str]:
    """(repository URL, ref or "" for the default branch, subdir or "")."""
    url, _, fragment = word.partition("#")
    ref, _, subdir = fragment.partition(":")
    if ".." in Path(subdir).parts:
        raise InvalidArgument(f"invalid git subdirectory {subdir!r} in {word}")
    return url, ref, subdir.strip("/")


def resolve(url: str, ref: str) -> str:
    """The commit `ref` (default: HEAD) names in the remote repository."""
    if _SHA.fullmatch(ref):
        return ref
    out = _git(["ls-remote", url, *([ref] if ref else ["HEAD"])], url)
    wanted = [f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", ref] if ref else ["HEAD"]
    found = dict(reversed(line.split("\t", 1)) for line in out.splitlines() if "\t" in line)
    for name in wanted:
        if name in found:
            return found[name].strip()
    raise PalletError(f"failed to resolve git ref {ref or 'HEAD'} of {url}: no such branch, tag or commit")


def checkout(url: str, commit: str, dest: Path, keep_git_dir: bool) -> None:
    """The tree of `commit` in `dest` (made), fetched alone."""
    dest.mkdir(parents=True)
    _git(["init", "-q", str(dest)], url)
    try:
        _git(["-C", str(dest), "fetch", "-q", "--depth", "1", url, commit], url)
    except PalletError:  # servers that refuse a bare commit in `want`: fetch everything
        _git(["-C", str(dest), "fetch", "-q", url, "+refs/heads/*:refs/remotes/origin/*",
              "+refs/tags/*:refs/tags/*"], url)
    _git(["-C", str(dest), "-c", "advice.detachedHead=false", "checkout", "-q", commit], url)
    if not keep_git_dir:
        import shutil
        shutil.rmtree(dest / ".git")


def _git(args: list[str], url: str) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}
    try:
        p = subprocess.run(["git", *args], capture_output=True, text=True, env=env, timeout=300,
                           stdin=subprocess.DEVNULL)
    except FileNotFoundError as exc:
        raise PalletError("ADD of a git repository needs git (apt-get install git)") from exc
    except subprocess.TimeoutExpired as exc:
        raise PalletError(f"git timed out on {url}") from exc
    if p.returncode != 0:
        lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
        raise PalletError(f"failed to fetch {url}: {lines[-1] if lines else 'git exited ' + str(p.returncode)}")
    return p.stdout
