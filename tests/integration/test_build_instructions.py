"""`pallet build`: every instruction, multi-stage builds, RUN mounts, ONBUILD, build args."""
from __future__ import annotations

import http.server
import io
import os
import tarfile
import threading
from pathlib import Path

import pytest

from test_build import write_context


def inspect_config(pallet, image: str) -> dict:
    return pallet.engine.images.config(pallet.engine.images.resolve(image))


MULTI = """ARG BASE=busybox
FROM ${BASE} AS builder
RUN mkdir /out && echo built > /out/artifact
FROM busybox AS unused
RUN echo THIS-STAGE-SHOULD-NOT-RUN
FROM scratch AS final
COPY --from=builder /out/artifact /artifact
COPY --from=0 /out /out2
"""


def test_multistage_builds_only_needed_stages_and_keeps_only_final_layers(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "m", {"Dockerfile": MULTI})
    r = pallet.ok("build", "--progress=classic", "-t", "multi:1", str(ctx))
    assert "THIS-STAGE-SHOULD-NOT-RUN" not in r.out
    assert "Step 1/5 : FROM ${BASE} AS builder" in r.lines       # 5 steps: stages 0 and 2 only
    cfg = inspect_config(pallet, "multi:1")
    assert len(cfg["rootfs"]["diff_ids"]) == 2                    # scratch + two COPY layers
    eng = pallet.engine
    top = eng.images.layer_dirs(eng.images.resolve("multi:1"))
    assert (top[0] / "artifact").read_text() == "built\n"
    assert (top[1] / "out2" / "artifact").read_text() == "built\n"


def test_target_stops_at_the_named_stage(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "m", {"Dockerfile": MULTI})
    r = pallet.ok("build", "--progress=classic", "--target", "unused", "-t", "t:1", str(ctx))
    assert "THIS-STAGE-SHOULD-NOT-RUN" in r.out and "builder" not in r.out
    bad = pallet("build", "--progress=classic", "--target", "nope", str(ctx))
    assert bad.code == 1 and "failed to reach build target nope in Dockerfile" in bad.err


def test_copy_from_any_image(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": "FROM scratch\nCOPY --from=busybox:latest /etc/passwd /p\n"})
    pallet.ok("build", "--progress=classic", "-t", "fromimg:1", str(ctx))
    eng = pallet.engine
    [layer] = eng.images.layer_dirs(eng.images.resolve("fromimg:1"))
    assert (layer / "p").read_text().startswith("root:x:0:0")


def test_build_args_defaults_meta_args_and_why_not_cached(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "a", {"Dockerfile": (
        "ARG TAG=latest\nFROM busybox:${TAG}\nARG TAG\nARG V=default\nENV FROM_ARG=$V\n"
        "RUN echo \"v=$V tag=$TAG\"\n")})
    r = pallet.ok("build", "--progress=classic", "-t", "args:1", str(ctx))
    assert "v=default tag=latest" in r.out
    r = pallet.ok("build", "--progress=classic", "--build-arg", "V=given", "--build-arg", "UNUSED=1", "-t", "args:2", str(ctx))
    assert "v=given tag=latest" in r.out
    assert " ---> Cache miss: build arg V changed" in r.out
    assert "[Warning] One or more build-args [UNUSED] were not consumed" in r.err
    assert "FROM_ARG=given" in inspect_config(pallet, "args:2")["config"]["Env"]
    assert not any(e.startswith("V=") for e in inspect_config(pallet, "args:2")["config"]["Env"])


def test_config_instructions_reach_the_image_config(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "cfg", {"Dockerfile": (
        'FROM busybox\nENV A=1 B="two words"\nENV C $A-x\nLABEL version="1.0" app=$A\nEXPOSE 80 53/udp 8000-8001\n'
        'VOLUME /data "/logs"\nUSER nobody\nSTOPSIGNAL SIGINT\n'
        'HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost\nENTRYPOINT ["echo"]\n'
        "MAINTAINER someone@example.com\nONBUILD RUN echo triggered\nSHELL [\"/bin/sh\", \"-ec\"]\n")})
    pallet.ok("build", "--progress=classic", "--label", "cli=yes", "-t", "cfg:1", str(ctx))
    doc = inspect_config(pallet, "cfg:1")
    cfg = doc["config"]
    assert {"A=1", "B=two words", "C=1-x"} <= set(cfg["Env"])
    assert cfg["Labels"] == {"version": "1.0", "app": "1", "cli": "yes"}
    assert set(cfg["ExposedPorts"]) == {"80/tcp", "53/udp", "8000/tcp", "8001/tcp"}
    assert set(cfg["Volumes"]) == {"/data", "/logs"}
    assert cfg["User"] == "nobody" and cfg["StopSignal"] == "SIGINT"
    assert cfg["Healthcheck"] == {"Test": ["CMD-SHELL", "wget -q localhost"], "Interval": 5_000_000_000,
                                  "Retries": 2}
    assert cfg["Entrypoint"] == ["echo"] and "Cmd" not in cfg          # ENTRYPOINT drops the base CMD
    assert cfg["OnBuild"] == ["RUN echo triggered"] and cfg["Shell"] == ["/bin/sh", "-ec"]
    assert doc["author"] == "someone@example.com"
    assert all(h.get("empty_layer") for h in doc["history"][1:])


def test_onbuild_triggers_run_in_the_child_build(pallet, busybox, tmp_path):
    parent = write_context(tmp_path / "p", {"Dockerfile": "FROM busybox\nONBUILD RUN echo trigger-ran > /t\n"})
    pallet.ok("build", "--progress=classic", "-t", "parent:1", str(parent))
    child = write_context(tmp_path / "c", {"Dockerfile": "FROM parent:1\nRUN cat /t\n"})
    r = pallet.ok("build", "--progress=classic", "-t", "child:1", str(child))
    assert "# Executing 1 build trigger" in r.out and "trigger-ran" in r.out
    assert "OnBuild" not in inspect_config(pallet, "child:1")["config"]


def test_copy_destination_rules_chown_chmod_and_globs(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "cp", {
        "Dockerfile": ("FROM busybox\nWORKDIR /w\nCOPY one.txt renamed.txt\nCOPY one.txt two.txt dir/\n"
                       "COPY --chown=nobody:nogroup --chmod=600 one.txt /owned\nCOPY *.md /docs/\n"
                       "COPY tree /tree\nRUN stat -c '%n %u %g %a' /w/renamed.txt /w/dir/one.txt /owned "
                       "&& ls /docs /tree\n"),
        "one.txt": "1", "two.txt": "2", "a.md": "a", "b.md": "b", "tree/sub/leaf": "l"})
    r = pallet.ok("build", "--progress=classic", str(ctx))
    assert "/w/renamed.txt 0 0 644" in r.out and "/w/dir/one.txt 0 0 644" in r.out
    assert "/owned 65534 65534 600" in r.out
    assert "a.md\nb.md" in r.out and "sub" in r.out


def test_add_unpacks_local_archives_and_fetches_urls_with_checksum(pallet, busybox, tmp_path):
    import hashlib
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("inside/file.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"in\n"))
    ctx = write_context(tmp_path / "add", {})
    (ctx / "bundle.tar.gz").write_bytes(buf.getvalue())
    served = tmp_path / "www"
    served.mkdir()
    (served / "remote.txt").write_text("remote\n")
    digest = "sha256:" + hashlib.sha256(b"remote\n").hexdigest()
    handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(*a, directory=str(served), **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/remote.txt"
    try:
        (ctx / "Dockerfile").write_text(f"FROM busybox\nADD bundle.tar.gz /x/\nADD --checksum={digest} {url} /r/\n"
                                        "RUN cat /x/inside/file.txt /r/remote.txt\n")
        r = pallet.ok("build", "--progress=classic", "--network", "host", str(ctx))
        assert "in\nremote\n" in r.out
        (ctx / "Dockerfile").write_text(f"FROM busybox\nADD --checksum=sha256:{'0' * 64} {url} /r/\n")
        bad = pallet("build", "--progress=classic", str(ctx))
        assert bad.code == 1 and "digest mismatch" in bad.err
    finally:
        server.shutdown()


def _tar_of(members: list[tuple[str, str]]) -> bytes:
    """A tar of ("name", "file" | "symlink:TARGET" | "hardlink:TARGET") members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind in members:
            info = tarfile.TarInfo(name)
            if ":" in kind:
                link, info.linkname = kind.split(":", 1)
                info.type = tarfile.SYMTYPE if link == "symlink" else tarfile.LNKTYPE
                tar.addfile(info)
            else:
                info.size = 4
                tar.addfile(info, io.BytesIO(b"evil"))
    return buf.getvalue()


@pytest.mark.parametrize("members,refusal", [
    ([("../../escaped", "file")], "escapes the destination"),
    ([("link", "symlink:/tmp"), ("link/escaped", "file")], "is a symbolic link"),
], ids=["dotdot", "through-symlink"])
def test_add_never_writes_outside_the_destination(pallet, busybox, tmp_path, members, refusal):
    ctx = write_context(tmp_path / "evil", {"Dockerfile": "FROM busybox\nADD evil.tar /x/\n"})
    (ctx / "evil.tar").write_bytes(_tar_of(members))
    r = pallet("build", "--progress=classic", str(ctx))
    assert r.code == 1 and refusal in r.err
    assert not Path("/tmp/escaped").exists()


@pytest.mark.parametrize("how", ["absolute", "dotdot"])
def test_add_of_a_hardlink_to_a_host_file_then_a_file_of_its_name_leaves_the_host_file_alone(
        pallet, busybox, tmp_path, how):
    """Issue 14, hole 1: tarfile's extraction followed a hardlink's target on the host, so the
    regular member of the same name that came next was written into the host file."""
    sentinel = tmp_path / "sentinel"
    sentinel.write_text("host secret\n")
    target = str(sentinel) if how == "absolute" else "../../../../../../../.." + str(sentinel)
    ctx = write_context(tmp_path / "evil", {"Dockerfile": "FROM busybox\nADD evil.tar /x/\n"})
    (ctx / "evil.tar").write_bytes(_tar_of([("h", f"hardlink:{target}"), ("h", "file")]))
    r = pallet("build", "--progress=classic", "-t", "evil", str(ctx))
    assert sentinel.read_text() == "host secret\n"
    assert sentinel.stat().st_nlink == 1
    assert r.code == 1 and "invalid hardlink" in r.err and "Traceback" not in r.err


def test_add_of_a_hardlink_alone_does_not_copy_a_host_file_into_the_image(pallet, busybox, tmp_path):
    sentinel = tmp_path / "sentinel"
    sentinel.write_text("host secret\n")
    ctx = write_context(tmp_path / "evil", {"Dockerfile": "FROM busybox\nADD evil.tar /x/\n"
                                                          "RUN cat /x/h\n"})
    (ctx / "evil.tar").write_bytes(_tar_of([("h", f"hardlink:{sentinel}")]))
    r = pallet("build", "--progress=classic", "-t", "evil", str(ctx))
    assert r.code == 1 and f"target {str(sentinel)!r} not found in the destination" in r.err
    assert "host secret" not in r.out + r.err
    assert pallet("image", "inspect", "evil").code == 1
    assert sentinel.stat().st_nlink == 1


def test_copy_of_two_sources_never_writes_through_a_symlink_the_first_one_placed(pallet, busybox, tmp_path):
    """`COPY a b /d/` where a/x is a symlink to a host directory and b/x a directory: the
    directory replaces the symlink in the layer; nothing reaches the host."""
    outside = tmp_path / "outside"
    outside.mkdir()
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nCOPY a b /d/\nRUN ls /d/x\n",
                                           "b/x/keep": "from b"})
    (ctx / "a").mkdir()
    (ctx / "a" / "x").symlink_to(outside)
    r = pallet("build", "--progress=classic", str(ctx))
    assert r.code == 0, r.err
    assert "keep" in r.out and os.listdir(outside) == []


def test_heredocs_in_run_and_copy(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "h", {"Dockerfile": (
        "FROM busybox\nENV WHO=world\nRUN <<EOF\necho first line\necho second $WHO\nEOF\n"
        "COPY <<EOF /expanded\nhello $WHO\nEOF\nCOPY <<'EOF' /literal\nhello $WHO\nEOF\n"
        "RUN cat /expanded /literal\n")})
    r = pallet.ok("build", "--progress=classic", str(ctx))
    assert "first line\nsecond world" in r.out
    assert "hello world\nhello $WHO" in r.out


def test_exec_form_run_and_shell_instruction(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "e", {"Dockerfile": (
        'FROM busybox\nRUN ["echo", "exec form $HOME"]\nSHELL ["/bin/sh", "-xc"]\nRUN echo traced\n')})
    r = pallet.ok("build", "--progress=classic", str(ctx))
    assert "exec form $HOME" in r.out, r.out
    # sh -x traces on stderr, in two writes ("+ " then the command), and stdout and
    # stderr are separate pipes: they may interleave, as they do under Docker
    assert "echo traced" in r.out and "+ " in r.out, r.out


def test_cache_mount_persists_between_builds_and_is_not_in_the_image(pallet, busybox, tmp_path):
    df = "FROM busybox\nARG N\nRUN --mount=type=cache,target=/cache echo $N >> /cache/log && cat /cache/log\n"
    ctx = write_context(tmp_path / "cm", {"Dockerfile": df})
    pallet.ok("build", "--progress=classic", "--build-arg", "N=one", str(ctx))
    r = pallet.ok("build", "--progress=classic", "--build-arg", "N=two", "-t", "cm:1", str(ctx))
    assert "one\ntwo" in r.out
    eng = pallet.engine
    top = eng.images.layer_dirs(eng.images.resolve("cm:1"))[-1]
    assert not (top / "cache").exists()


def test_secret_and_bind_mounts_are_visible_to_run_but_not_kept(pallet, busybox, tmp_path):
    secret = tmp_path / "token"
    secret.write_text("s3cr3t")
    ctx = write_context(tmp_path / "sm", {"Dockerfile": (
        "FROM busybox\nRUN --mount=type=secret,id=tok --mount=type=bind,source=data,target=/mnt/data "
        "cat /run/secrets/tok /mnt/data/d.txt > /seen\n"), "data/d.txt": "-bound"})
    pallet.ok("build", "--progress=classic", "--secret", f"id=tok,src={secret}", "-t", "sm:1", str(ctx))
    assert pallet.ok("run", "--rm", "sm:1", "cat", "/seen").out == "s3cr3t-bound"
    eng = pallet.engine
    top = eng.images.layer_dirs(eng.images.resolve("sm:1"))[-1]
    assert sorted(p.name for p in top.iterdir()) == ["seen"]


def test_from_scratch_with_only_files(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "s", {"Dockerfile": "FROM scratch\nCOPY hello /hello\nCMD [\"/hello\"]\n",
                                         "hello": "x"})
    pallet.ok("build", "--progress=classic", "-t", "scratchy:1", str(ctx))
    cfg = inspect_config(pallet, "scratchy:1")
    assert len(cfg["rootfs"]["diff_ids"]) == 1 and cfg["config"]["Cmd"] == ["/hello"]


def test_workdir_is_created_when_missing_and_relative_to_the_previous(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "wd", {"Dockerfile": "FROM busybox\nWORKDIR /a\nWORKDIR b\nRUN pwd\n"})
    r = pallet.ok("build", "--progress=classic", "-t", "wd:1", str(ctx))
    assert "/a/b\n" in r.out
    assert inspect_config(pallet, "wd:1")["config"]["WorkingDir"] == "/a/b"
