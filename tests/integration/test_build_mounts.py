"""RUN --mount as BuildKit has it: writable binds whose writes are thrown away, and secrets
as files or environment variables that never reach the image."""
from __future__ import annotations

from pathlib import Path

import pytest


def context(root: Path, dockerfile: str, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(dockerfile)
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_rw_bind_mount_lets_run_write_but_keeps_neither_the_writes_nor_the_mount(pallet, busybox, tmp_path):
    ctx = context(tmp_path / "c", "FROM busybox\n"
                  "RUN --mount=type=bind,source=data,target=/data,rw "
                  "sh -c 'echo changed > /data/f && echo new > /data/new && cat /data/f > /seen'\n",
                  {"data/f": "orig\n"})
    pallet.ok("build", "--progress=classic", "-q", "-t", "rw", str(ctx))
    assert (ctx / "data" / "f").read_text() == "orig\n" and not (ctx / "data" / "new").exists()
    out = pallet.ok("run", "--rm", "--network", "none", "rw", "sh", "-c", "cat /seen; ls /data || true").out
    assert out.startswith("changed\n") and "new" not in out


def test_bind_mount_without_rw_is_read_only(pallet, busybox, tmp_path):
    ctx = context(tmp_path / "c", "FROM busybox\nRUN --mount=type=bind,source=data,target=/data "
                  "touch /data/x\n", {"data/f": "orig\n"})
    r = pallet("build", "--progress=classic", str(ctx))
    assert r.code == 1 and "returned a non-zero code" in r.err


def test_secret_as_an_environment_variable_of_one_run_only(pallet, busybox, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_TOKEN", "tok-7f3a9")
    ctx = context(tmp_path / "c", "FROM busybox\n"
                  "RUN --mount=type=secret,id=tok,env=TOKEN "
                  "sh -c 'echo ${#TOKEN} > /len; test ! -e /run/secrets/tok'\n"
                  "RUN sh -c 'echo \"[$TOKEN]\" > /after'\n")
    pallet.ok("build", "--progress=classic", "--secret", "id=tok,env=MY_TOKEN", "-t", "sec", str(ctx))
    assert pallet.ok("run", "--rm", "--network", "none", "sec", "cat", "/len", "/after").out == "9\n[]\n"
    doc = pallet.ok("image", "inspect", "sec").out + pallet.ok("history", "--no-trunc", "sec").out
    assert "tok-7f3a9" not in doc


def test_secret_id_alone_reads_the_environment_variable_of_that_name(pallet, busybox, tmp_path, monkeypatch):
    monkeypatch.setenv("API_TOKEN", "abc123")
    ctx = context(tmp_path / "c", "FROM busybox\n"
                  "RUN --mount=type=secret,id=API_TOKEN wc -c < /run/secrets/API_TOKEN > /n\n")
    pallet.ok("build", "--progress=classic", "--secret", "id=API_TOKEN", "-t", "sec2", str(ctx))
    assert pallet.ok("run", "--rm", "--network", "none", "sec2", "cat", "/n").out.strip() == "6"


def test_secret_errors(pallet, busybox, tmp_path, monkeypatch):
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    ctx = context(tmp_path / "c", "FROM busybox\nRUN --mount=type=secret,id=missing,required=true true\n")
    r = pallet("build", "--progress=classic", str(ctx))
    assert r.code == 1 and "secret missing: not found" in r.err
    r = pallet("build", "--progress=classic", "--secret", "id=x,env=NOPE_NOT_SET", str(ctx))
    assert r.code == 1 and "environment variable NOPE_NOT_SET is not set" in r.err
