"""`pallet build`: real builds with RUN in real containers, the layer cache, failures, reproducibility."""
from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path

import pytest

from api_service import ALSO_DOCKER


def write_context(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    return root


def top_layer_names(pallet, image: str) -> list[str]:
    eng = pallet.engine
    top = eng.images.layer_dirs(eng.images.resolve(image))[-1]
    return sorted(str(p.relative_to(top)) for p in top.rglob("*"))


APP = """FROM busybox
ENV GREETING=hello
WORKDIR /app
COPY conf.txt /app/
COPY src/ /app/src/
RUN echo "$GREETING from run" && cat /app/src/main.sh > /app/built.txt
CMD ["sh", "/app/src/main.sh"]
"""


@pytest.fixture
def app_ctx(tmp_path):
    return write_context(tmp_path / "app", {"Dockerfile": APP, "conf.txt": "conf\n",
                                            "src/main.sh": "echo main v1\n", "src/util.sh": "true\n"})


# pallet only (not ALSO_DOCKER): the legacy builder's CLI first prints 'Sending build context to Docker daemon'
def test_build_runs_steps_in_containers_and_tags_the_image(pallet, busybox, app_ctx):
    r = pallet.ok("build", "--progress=classic", "-t", "myapp:1.0", str(app_ctx))
    assert r.lines[0] == "Step 1/7 : FROM busybox"
    assert "Step 6/7 : RUN echo \"$GREETING from run\" && cat /app/src/main.sh > /app/built.txt" in r.lines
    assert "hello from run" in r.lines
    assert r.lines[-2].startswith("Successfully built ")
    assert r.lines[-1] == "Successfully tagged myapp:1.0"
    run = pallet.ok("run", "--rm", "myapp:1.0")
    assert run.out == "main v1\n"
    assert pallet.ok("run", "--rm", "myapp:1.0", "cat", "/app/built.txt").out == "echo main v1\n"
    assert pallet.ok("ps", "-a", "-q").out == ""   # intermediate containers are gone


@ALSO_DOCKER
def test_each_run_and_copy_makes_one_layer_and_the_rest_only_config(pallet, busybox, app_ctx):
    pallet.ok("build", "--progress=classic", "-t", "myapp:1.0", str(app_ctx))
    cfg = pallet.engine.images.config(pallet.engine.images.resolve("myapp:1.0"))
    base = pallet.engine.images.config(busybox)
    assert len(cfg["rootfs"]["diff_ids"]) == len(base["rootfs"]["diff_ids"]) + 4  # WORKDIR, 2 COPY, RUN
    new = cfg["history"][len(base["history"]):]
    assert [h.get("empty_layer", False) for h in new] == [True, False, False, False, False, True]
    assert cfg["config"]["WorkingDir"] == "/app" and cfg["config"]["Cmd"] == ["sh", "/app/src/main.sh"]
    assert "GREETING=hello" in cfg["config"]["Env"]


def test_a_stage_without_path_gets_dockers_default_and_history_reads_as_dockers(pallet, busybox, tmp_path):
    # the test busybox is an imported rootfs: no Env at all, as `docker import` leaves it
    assert not (pallet.engine.images.config(busybox).get("config") or {}).get("Env")
    ctx = write_context(tmp_path / "p", {"Dockerfile": 'FROM busybox\nENV A=1\nCMD ["cat", "/x"]\n'})
    pallet.ok("build", "--progress=classic", "-t", "withpath", str(ctx))
    env = pallet.engine.images.config(pallet.engine.images.resolve("withpath"))["config"]["Env"]
    assert env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1"]
    history = pallet.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", "withpath").lines
    assert history[0] == '/bin/sh -c #(nop)  CMD ["cat" "/x"]'  # Go's %q of the list, as the classic builder


def test_run_layer_holds_only_what_the_command_wrote(pallet, busybox, app_ctx):
    pallet.ok("build", "--progress=classic", "-t", "myapp:1.0", str(app_ctx))
    assert top_layer_names(pallet, "myapp:1.0") == ["app", "app/built.txt"]


@ALSO_DOCKER
def test_rebuild_reuses_every_step_and_gives_the_same_image(pallet, busybox, app_ctx):
    first = pallet.ok("build", "--progress=classic", "-q", str(app_ctx)).out.strip()
    r = pallet.ok("build", "--progress=classic", "-t", "myapp:1.0", str(app_ctx))
    assert r.out.count(" ---> Using cache") == 6
    assert "hello from run" not in r.out
    assert r.lines[-2] == f"Successfully built {first.split(':')[1][:12]}"


def test_cache_survives_across_processes(pallet, busybox, app_ctx):
    pallet.ok("build", "--progress=classic", str(app_ctx))
    r = pallet.sub("build", "--progress=classic", str(app_ctx), check=True)
    assert r.out.count(" ---> Using cache") == 6


def test_changing_one_source_rebuilds_from_its_copy_and_says_why(pallet, busybox, app_ctx):
    pallet.ok("build", "--progress=classic", str(app_ctx))
    (app_ctx / "src" / "main.sh").write_text("echo main v2\n")
    r = pallet.ok("build", "--progress=classic", "-t", "myapp:2", str(app_ctx))
    steps = r.out.split("Step ")[1:]
    assert all("Using cache" in s for s in steps[1:4])           # ENV, WORKDIR, COPY conf.txt
    assert " ---> Cache miss: src/main.sh changed" in steps[4]
    assert "Cache miss: parent image changed" in steps[5]
    assert pallet.ok("run", "--rm", "myapp:2").out == "main v2\n"


def test_touching_a_source_without_changing_it_keeps_the_cache(pallet, busybox, app_ctx):
    pallet.ok("build", "--progress=classic", str(app_ctx))
    later = time.time() + 100
    for p in app_ctx.rglob("*"):
        os.utime(p, (later, later))
    r = pallet.ok("build", "--progress=classic", str(app_ctx))
    assert r.out.count(" ---> Using cache") == 6


def test_changing_a_mode_busts_the_cache(pallet, busybox, app_ctx):
    pallet.ok("build", "--progress=classic", str(app_ctx))
    os.chmod(app_ctx / "src" / "util.sh", 0o755)
    r = pallet.ok("build", "--progress=classic", str(app_ctx))
    assert "Cache miss: src/util.sh changed" in r.out


def test_no_cache_rebuilds_everything(pallet, busybox, app_ctx):
    pallet.ok("build", "--progress=classic", str(app_ctx))
    r = pallet.ok("build", "--progress=classic", "--no-cache", str(app_ctx))
    assert "Using cache" not in r.out and "hello from run" in r.out
    assert " ---> Cache miss: --no-cache" in r.out


# pallet only (not ALSO_DOCKER): the legacy builder's -q output and iidfile differ in their final newline
def test_quiet_prints_only_the_image_id_and_iidfile_gets_it(pallet, busybox, app_ctx, tmp_path):
    iid = tmp_path / "iid"
    r = pallet.ok("build", "--progress=classic", "-q", "--iidfile", str(iid), "-t", "q:1", str(app_ctx))
    assert len(r.lines) == 1 and r.lines[0].startswith("sha256:")
    assert iid.read_text() == r.lines[0]
    assert pallet.engine.images.resolve("q:1") == r.lines[0]


# pallet only (not ALSO_DOCKER): a build error ends the JSON stream; the docker CLI prints it bare, without 'Error: '
def test_copy_of_a_missing_file_and_a_bad_tag_fail_in_dockers_words(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "nofile", {"Dockerfile": "FROM busybox\nCOPY nosuch /x\n"})
    r = pallet("build", "--progress=classic", str(ctx))
    assert r.code == 1 and ("Error: COPY failed: file not found in build context or excluded by "
                            ".dockerignore: stat nosuch: file does not exist") in r.err
    r = pallet("build", "--progress=classic", "-t", "BAD TAG", str(ctx))
    assert r.code == 125 and 'invalid argument "BAD TAG" for "-t, --tag" flag: invalid reference format' in r.err


@ALSO_DOCKER
def test_failing_run_prints_command_and_code_tags_nothing_and_keeps_cache(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "bad", {"Dockerfile": "FROM busybox\nENV A=1\nRUN echo before\n"
                                                        "RUN exit 3\nRUN echo never\n"})
    r = pallet("build", "--progress=classic", "-t", "bad:1", str(ctx))
    assert r.code == 3  # the classic builder's CLI exits with the failed step's code
    assert f"{pallet.stream_error_prefix}The command '/bin/sh -c exit 3' returned a non-zero code: 3" in r.err
    assert "never" not in r.out
    assert pallet("image", "inspect", "bad:1").code == 1
    assert pallet.ok("ps", "-a", "-q").out == ""
    again = pallet("build", "--progress=classic", "-t", "bad:1", str(ctx))
    assert again.out.count("Using cache") == 2            # ENV and the first RUN were kept


@ALSO_DOCKER
def test_syntax_error_names_file_and_line_and_builds_nothing(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "syn", {"Dockerfile": "FROM busybox\nRUN echo hi\nFOO bar\n"})
    r = pallet("build", "--progress=classic", str(ctx))
    assert r.code == 1
    assert "Dockerfile:3: dockerfile parse error on line 3: unknown instruction: FOO" in r.err
    assert "Step" not in r.out
    assert pallet.ok("images", "-a", "-q").out.strip() == busybox.split(":")[1][:12]


@pytest.mark.parametrize("dockerfile, message", [
    ("FROM busybox\nCOPY ../outside /x\n", "forbidden path outside the build context: ../outside"),
    ("FROM busybox\nCOPY missing.txt /x\n", "file not found in build context or excluded by .dockerignore"),
    ("FROM busybox\nCOPY --from=nostage /a /b\n", "invalid from flag value nostage"),
    # a base image that is not stored is pulled first; tests only ever reach loopback
    ("FROM localhost:1/nosuchimage\n", 'Get "http://localhost:1/v2/": connect: connection refused'),
    ("FROM busybox\nCOPY a b /notadir\n", "the destination must be a directory and end with a /"),
])
def test_bad_input_exits_1_with_dockers_wording(pallet, busybox, tmp_path, dockerfile, message):
    ctx = write_context(tmp_path / "c", {"Dockerfile": dockerfile, "a": "a", "b": "b"})
    r = pallet("build", "--progress=classic", str(ctx))
    assert r.code == 1 and message in r.err, r.err


# pallet only (not ALSO_DOCKER): the docker CLI checks the Dockerfile and context itself, in its own words
def test_missing_dockerfile_and_missing_context(pallet, busybox, tmp_path):
    (tmp_path / "empty").mkdir()
    r = pallet("build", "--progress=classic", str(tmp_path / "empty"))
    assert r.code == 1 and "Cannot locate specified Dockerfile: Dockerfile" in r.err
    r = pallet("build", "--progress=classic", str(tmp_path / "nowhere"))
    assert r.code == 1 and "unable to prepare context" in r.err
    r = pallet("build", "--progress=classic", "-", stdin=b"")
    assert r.code == 1 and "empty" in r.err


@ALSO_DOCKER
def test_symlink_out_of_the_context_never_brings_host_files(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "ln", {"Dockerfile": "FROM busybox\nCOPY . /ctx/\n", "ok.txt": "ok"})
    os.symlink("/etc/shadow", ctx / "shadow")
    os.symlink("../../../../../../../etc", ctx / "hostetc")
    pallet.ok("build", "--progress=classic", "-t", "ln:1", str(ctx))
    out = pallet.ok("run", "--rm", "ln:1", "sh", "-c", "readlink /ctx/shadow; ls /ctx/hostetc/ 2>&1 | head -1")
    assert out.lines[0] == "/etc/shadow"                 # copied as a link, not followed
    bad = write_context(tmp_path / "ln2", {"Dockerfile": "FROM busybox\nCOPY shadow /x\n"})
    os.symlink("/etc/shadow", bad / "shadow")
    r = pallet("build", "--progress=classic", str(bad))
    assert r.code == 1 and "file not found in build context" in r.err


@ALSO_DOCKER
def test_dockerignore_hides_files_from_copy(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "ig", {
        "Dockerfile": "FROM busybox\nCOPY . /ctx/\n", ".dockerignore": "*.log\nsecrets\n!secrets/public.txt\n",
        "app.txt": "a", "debug.log": "x", "secrets/key": "k", "secrets/public.txt": "p"})
    pallet.ok("build", "--progress=classic", "-t", "ig:1", str(ctx))
    out = pallet.ok("run", "--rm", "ig:1", "find", "/ctx", "-type", "f").lines
    assert sorted(out) == ["/ctx/.dockerignore", "/ctx/Dockerfile", "/ctx/app.txt", "/ctx/secrets/public.txt"]


# pallet only (not ALSO_DOCKER): SOURCE_DATE_EPOCH is read by pallet's CLI; the legacy docker builder does not send it
def test_source_date_epoch_gives_the_same_image_id_anywhere_anytime(pallet, busybox, tmp_path, monkeypatch):
    files = {"Dockerfile": "FROM busybox\nCOPY . /app/\nRUN mkdir /data && echo x > /data/f\n", "a.txt": "a"}
    one = write_context(tmp_path / "one", files)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = pallet.ok("build", "--progress=classic", "-q", str(one)).out.strip()
    time.sleep(1.1)
    two = write_context(tmp_path / "elsewhere" / "two", files)
    second = pallet.ok("build", "--progress=classic", "-q", "--no-cache", str(two)).out.strip()
    assert first == second
    cfg = pallet.engine.images.config(first)
    assert cfg["created"] == "2023-11-14T22:13:20Z"


@ALSO_DOCKER  # docker/cli's `-f - DIR` context ends with the last entry's content, unpadded, as Go's tar reader allows
def test_context_tar_on_stdin_and_dockerfile_on_stdin(pallet, busybox, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in {"Dockerfile": b"FROM busybox\nCOPY hello.txt /\n", "hello.txt": b"hi\n"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    pallet.ok("build", "--progress=classic", "-t", "tarctx:1", "-", stdin=buf.getvalue())
    assert pallet.ok("run", "--rm", "tarctx:1", "cat", "/hello.txt").out == "hi\n"
    pallet.ok("build", "--progress=classic", "-t", "nofile:1", "-", stdin=b"FROM busybox\nENV X=1\n")
    ctx = write_context(tmp_path / "f", {"x.txt": "x"})
    pallet.ok("build", "--progress=classic", "-t", "fstdin:1", "-f", "-", str(ctx), stdin=b"FROM busybox\nCOPY x.txt /\n")
    assert pallet.ok("run", "--rm", "fstdin:1", "cat", "/x.txt").out == "x"


def test_builder_prune_drops_the_cache(pallet, busybox, app_ctx):
    pallet.ok("build", "--progress=classic", "-t", "myapp:1.0", str(app_ctx))
    r = pallet.ok("builder", "prune", "-f")
    assert "Total reclaimed space:" in r.out
    again = pallet.ok("build", "--progress=classic", str(app_ctx))
    assert "Using cache" not in again.out


# pallet only (not ALSO_DOCKER): uses pallet's --progress values, which the legacy builder refuses
def test_image_build_is_the_same_command(pallet, busybox, app_ctx):
    r = pallet.ok("image", "build", "--progress=classic", "-t", "viaimage:1", str(app_ctx))
    assert r.lines[-1] == "Successfully tagged viaimage:1"
    assert pallet("build", "--progress=classic", "--progress", "fancy", str(app_ctx)).code == 1
    assert pallet("build", "--progress=classic", "--nope", str(app_ctx)).code == 125
