"""ADD of a git repository, as BuildKit has it: `ADD <url>#<ref>:<subdir> <dest>`, served here
by a real `git daemon` on 127.0.0.1."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

GIT = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"]


def commit(work: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    subprocess.run([*GIT, "-C", str(work), "add", "."], check=True)
    subprocess.run([*GIT, "-C", str(work), "commit", "-qm", message], check=True)
    subprocess.run([*GIT, "-C", str(work), "push", "-q", "origin", "HEAD:main", "--tags"], check=True)


@pytest.fixture
def repo(tmp_path):
    """(work tree, git://127.0.0.1:PORT/repo.git) with one commit: README, sub/a.txt, tag v1."""
    served = tmp_path / "served"
    served.mkdir()
    subprocess.run([*GIT, "init", "-q", "--bare", str(served / "repo.git")], check=True)
    work = tmp_path / "work"
    subprocess.run([*GIT, "clone", "-q", str(served / "repo.git"), str(work)], check=True,
                   capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", f"--base-path={served}", "--export-all",
                               "--listen=127.0.0.1", f"--port={port}", str(served)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    commit(work, {"README": "top\n", "sub/a.txt": "hello\n"}, "one")
    subprocess.run([*GIT, "-C", str(work), "tag", "v1"], check=True)
    subprocess.run([*GIT, "-C", str(work), "push", "-q", "origin", "v1"], check=True)
    url = f"git://127.0.0.1:{port}/repo.git"
    deadline = time.monotonic() + 10
    while subprocess.run(["git", "ls-remote", url], capture_output=True).returncode != 0:
        assert time.monotonic() < deadline, "git daemon did not start"
        time.sleep(0.1)
    yield work, url
    daemon.terminate()
    daemon.wait()


def build(pallet, tmp_path, dockerfile: str, tag: str = "g"):
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    return pallet("build", "--progress=classic", "--network", "none", "-t", tag, str(ctx))


def ok(result):
    assert result.code == 0, result.err
    return result


def test_add_git_subdir_of_a_branch_without_the_git_dir(pallet, busybox, tmp_path, repo):
    _, url = repo
    ok(build(pallet, tmp_path, f"FROM busybox\nADD {url}#main:sub /app/\n"))
    out = pallet.ok("run", "--rm", "--network", "none", "g", "sh", "-c", "ls -A /app; cat /app/a.txt").out
    assert out == "a.txt\nhello\n"


def test_add_git_tag_keeps_the_git_dir_when_asked(pallet, busybox, tmp_path, repo):
    _, url = repo
    ok(build(pallet, tmp_path, f"FROM busybox\nADD --keep-git-dir=true {url}#v1 /src/\n"))
    out = pallet.ok("run", "--rm", "--network", "none", "g", "ls", "-A", "/src").out.split()
    assert out == [".git", "README", "sub"]


def test_add_git_is_cached_by_commit_and_a_new_commit_rebuilds(pallet, busybox, tmp_path, repo):
    work, url = repo
    dockerfile = f"FROM busybox\nADD {url}#main /src/\n"
    ok(build(pallet, tmp_path, dockerfile))
    again = ok(build(pallet, tmp_path, dockerfile))
    assert "Using cache" in again.out
    commit(work, {"README": "changed\n"}, "two")
    rebuilt = ok(build(pallet, tmp_path, dockerfile))
    assert "Using cache" not in rebuilt.out
    assert pallet.ok("run", "--rm", "--network", "none", "g", "cat", "/src/README").out == "changed\n"


def test_add_git_errors(pallet, busybox, tmp_path, repo):
    _, url = repo
    r = build(pallet, tmp_path, f"FROM busybox\nADD {url}#no-such-branch /src/\n")
    assert r.code == 1 and "failed to resolve git ref no-such-branch" in r.err
    r = build(pallet, tmp_path, f"FROM busybox\nCOPY {url}#main /src/\n")
    assert r.code == 1 and "can't be a git repository for COPY" in r.err
    r = build(pallet, tmp_path, "FROM busybox\nADD git://127.0.0.1:1/nothing.git /src/\n")
    assert r.code == 1 and "failed to fetch git://127.0.0.1:1/nothing.git" in r.err
    assert pallet.ok("images", "-q", "g").out == ""
