"""Pull and push against a real registry (Debian's docker-registry on loopback), as Docker does them."""
from __future__ import annotations

import json
import re

from palletcli import Pallet
from registry_fixtures import docker_config, registry  # noqa: F401 - fixtures

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _other_store(tmp_path, name="other") -> Pallet:
    return Pallet(tmp_path / name / "root", tmp_path / name / "run")


def test_push_prints_layers_then_tag_digest_and_size(pallet, busybox, registry, docker_config):
    name = f"{registry.host}/push/basic"
    pallet.ok("tag", "busybox", name)
    r = pallet.ok("push", name)
    assert r.lines[0] == "Using default tag: latest"
    assert r.lines[1] == f"The push refers to repository [{name}]"
    diff_id = json.loads(pallet.ok("image", "inspect", name).out)[0]["RootFS"]["Layers"][0]
    assert f"{diff_id[7:19]}: Pushed" in r.lines, r.out
    m = re.fullmatch(r"latest: digest: (sha256:[0-9a-f]{64}) size: (\d+)", r.lines[-1])
    assert m, r.lines[-1]
    doc = json.loads(pallet.ok("image", "inspect", name).out)[0]
    assert doc["RepoDigests"] == [f"{name}@{m.group(1)}"]


def test_rmi_after_push_removes_the_digest_reference_with_the_last_tag(pallet, busybox, registry,
                                                                         docker_config):
    name = f"{registry.host}/push/gone:v1"
    pallet.ok("tag", "busybox", name)
    pallet.ok("push", name)
    digest_ref = json.loads(pallet.ok("image", "inspect", name).out)[0]["RepoDigests"][0]
    pallet.ok("rmi", "busybox")
    r = pallet.ok("rmi", name)
    # moby's ImageDelete: the repository's digest references go with its last tag, then the image
    assert r.lines == [f"Untagged: {name}", f"Untagged: {digest_ref}", f"Deleted: {busybox}"]
    assert pallet.ok("images", "-a", "-q").out == ""


def test_build_pull_fetches_a_stored_base_image_again(pallet, busybox, registry, docker_config, tmp_path):
    name = f"{registry.host}/build/base:1"
    pallet.ok("tag", "busybox", name)
    pallet.ok("push", name)
    (tmp_path / "Dockerfile").write_text(f"FROM {name}\nRUN true\n")
    plain = pallet.ok("build", str(tmp_path)).err
    assert f"#4 [1/2] FROM {name}\n#4 CACHED\n" in plain  # stored: no pull
    plain = pallet.ok("build", "--pull", str(tmp_path)).err
    block = plain[plain.index(f"#4 [1/2] FROM {name}"):].split("\n\n", 1)[0]
    assert "#4 1: Pulling from build/base" in block and "Image is up to date" in block
    assert block.splitlines()[-1].startswith("#4 DONE ")


def test_push_again_says_layer_already_exists(pallet, busybox, registry, docker_config):
    name = f"{registry.host}/push/again:v1"
    pallet.ok("tag", "busybox", name)
    first = pallet.ok("push", name)
    second = pallet.ok("push", name)
    assert any(l.endswith(": Layer already exists") for l in second.lines), second.out
    assert first.lines[-1] == second.lines[-1]  # deterministic gzip: same manifest digest


def test_push_to_another_repository_mounts_the_blob(pallet, busybox, registry, docker_config):
    pallet.ok("tag", "busybox", f"{registry.host}/mount/src:1")
    pallet.ok("tag", "busybox", f"{registry.host}/mount/dst:1")
    pallet.ok("push", f"{registry.host}/mount/src:1")
    r = pallet.ok("push", f"{registry.host}/mount/dst:1")
    assert any(l.endswith(": Mounted from mount/src") for l in r.lines), r.out


def test_pull_into_empty_store_then_run(pallet, busybox, registry, docker_config, tmp_path):
    name = f"{registry.host}/pull/app:1.0"
    pallet.ok("tag", "busybox", name)
    digest = DIGEST.search(pallet.ok("push", name).lines[-1]).group(0)
    other = _other_store(tmp_path)
    r = other.ok("pull", name)
    assert r.lines[0] == "1.0: Pulling from pull/app"
    assert any(l.endswith(": Pull complete") for l in r.lines), r.out
    assert r.lines[-3:] == [f"Digest: {digest}", f"Status: Downloaded newer image for {name}", name]
    assert other.ok("images", "-q", "--no-trunc").lines == [busybox]
    doc = json.loads(other.ok("image", "inspect", name).out)[0]
    assert doc["RepoDigests"] == [f"{registry.host}/pull/app@{digest}"]
    assert other.ok("run", "--rm", name, "echo", "pulled").out == "pulled\n"


def test_pull_again_is_up_to_date_and_shared_layers_already_exist(pallet, busybox, registry,
                                                                   docker_config, tmp_path):
    for tag in ("a", "b"):
        pallet.ok("tag", "busybox", f"{registry.host}/pull/twice:{tag}")
        pallet.ok("push", f"{registry.host}/pull/twice:{tag}")
    other = _other_store(tmp_path)
    other.ok("pull", f"{registry.host}/pull/twice:a")
    again = other.ok("pull", f"{registry.host}/pull/twice:a")
    assert again.lines[-2] == f"Status: Image is up to date for {registry.host}/pull/twice:a"
    assert any(l.endswith(": Already exists") for l in again.lines)
    b = other.ok("pull", f"{registry.host}/pull/twice:b")
    assert b.lines[-2] == f"Status: Downloaded newer image for {registry.host}/pull/twice:b"


def test_pull_quiet_prints_only_the_reference(pallet, busybox, registry, docker_config, tmp_path):
    pallet.ok("tag", "busybox", f"{registry.host}/pull/quiet")
    pallet.ok("push", f"{registry.host}/pull/quiet")
    r = _other_store(tmp_path).ok("pull", "-q", f"{registry.host}/pull/quiet")
    assert r.lines == [f"{registry.host}/pull/quiet:latest"]


def test_pull_by_digest(pallet, busybox, registry, docker_config, tmp_path):
    name = f"{registry.host}/pull/bydigest:x"
    pallet.ok("tag", "busybox", name)
    digest = DIGEST.search(pallet.ok("push", name).lines[-1]).group(0)
    other = _other_store(tmp_path)
    ref = f"{registry.host}/pull/bydigest@{digest}"
    r = other.ok("pull", ref)
    assert r.lines[0] == f"{digest}: Pulling from pull/bydigest"
    assert r.lines[-1] == ref
    assert other.ok("images", "--digests", "--format", "{{.Digest}}").lines == [digest]


def test_images_lists_a_repository_known_only_by_digest_beside_the_tags(pallet, busybox, registry,
                                                                        docker_config, tmp_path):
    name = f"{registry.host}/list/bydigest"
    pallet.ok("tag", "busybox", f"{name}:x")
    digest = DIGEST.search(pallet.ok("push", f"{name}:x").lines[-1]).group(0)
    other = _other_store(tmp_path)
    other.ok("pull", f"{name}@{digest}")
    other.ok("tag", busybox[7:19], "local:1")
    short = busybox[7:19]
    # docker/cli formatter/image.go: a row per tag and one per repository known only by digest
    # (its digest with --digests), so -q prints the image's ID once for each
    assert other.ok("images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}").lines == [
        f"{name} <none> {digest}", "local 1 <none>"]
    assert other.ok("images", "-q").lines == [short, short]
    assert other.ok("images", "-q", "--digests").lines == [short, short]
    assert other.ok("images", "-q", name).lines == [short]  # moby matches the digest reference
    # and the docker CLI, reading pallet's GET /images/json of the same store, prints the same
    from api_service import ApiService
    service = ApiService(other, tmp_path / "api.sock")
    try:
        for argv in (["images", "-q"], ["images", "-q", "--digests"], ["images", "-q", name],
                     ["images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}"]):
            assert sorted(service.docker_ok(*argv).lines) == sorted(other.ok(*argv).lines), argv
    finally:
        service.stop()


def test_pull_all_tags(pallet, busybox, registry, docker_config, tmp_path):
    for tag in ("1", "2"):
        pallet.ok("tag", "busybox", f"{registry.host}/pull/alltags:{tag}")
    pallet.ok("push", "-a", f"{registry.host}/pull/alltags")
    other = _other_store(tmp_path)
    r = other.ok("pull", "-a", f"{registry.host}/pull/alltags")
    assert r.lines[-1] == f"{registry.host}/pull/alltags"
    tags = other.ok("images", "--format", "{{.Tag}}").lines
    assert sorted(tags) == ["1", "2"]


def test_manifest_inspect_prints_the_pushed_manifest(pallet, busybox, registry, docker_config):
    name = f"{registry.host}/manifest/show:1"
    pallet.ok("tag", "busybox", name)
    pallet.ok("push", name)
    r = pallet.ok("manifest", "inspect", name)
    doc = json.loads(r.out)
    assert doc["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert doc["config"]["digest"] == busybox
    assert r.lines[1].startswith('   "schemaVersion": 2')


def test_run_pulls_a_missing_image(pallet, busybox, registry, docker_config, tmp_path):
    name = f"{registry.host}/run/auto:1"
    pallet.ok("tag", "busybox", name)
    pallet.ok("push", name)
    other = _other_store(tmp_path)
    from pallet.cli.registry import pull_for_run
    from pallet.cli.main import Context
    import io
    err = io.StringIO()
    ctx = Context(str(other.root), str(other.runroot), stdout=io.StringIO(), stderr=err)
    pull_for_run(ctx, name)
    assert f"Status: Downloaded newer image for {name}" in err.getvalue()
    assert other.ok("run", "--rm", name, "true").code == 0


def test_pull_on_a_terminal_draws_live_bars(pallet, busybox, registry, docker_config, tmp_path):
    import os
    import pty
    import subprocess
    import sys
    name = f"{registry.host}/tty/app:1"
    pallet.ok("tag", "busybox", name)
    pallet.ok("push", name)
    other = _other_store(tmp_path)
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "pallet.cli.main", "--root", str(other.root),
                          "--runroot", str(other.runroot), "pull", name],
                         stdout=slave, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    assert p.wait(60) == 0, out
    os.close(master)
    text = out.decode()
    assert "\x1b[1A" in text and "\x1b[2K" in text  # lines redrawn in place
    assert "Pull complete" in text and f"Status: Downloaded newer image for {name}" in text


def test_cheap_commands_do_not_import_httpx():
    import subprocess
    import sys
    code = ("import sys; from pallet.cli.main import run; run(['pull', '--help']); "
            "assert 'httpx' not in sys.modules, 'httpx imported'")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
