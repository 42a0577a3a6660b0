"""Images as Docker users know them: import, images, tag, rmi, inspect, history."""
from __future__ import annotations

import hashlib
import json

from pallet.digest import chain_ids
from api_service import ALSO_DOCKER


def test_import_prints_image_id_which_is_sha256_of_config(pallet, busybox):
    assert busybox.startswith("sha256:") and len(busybox) == 71
    config = (pallet.root / "blobs" / "sha256" / busybox[7:]).read_bytes()
    assert "sha256:" + hashlib.sha256(config).hexdigest() == busybox


@ALSO_DOCKER
def test_images_lists_repository_tag_id_created_size(pallet, busybox):
    r = pallet.ok("images")
    header, row = r.lines[0], r.lines[1]
    assert header.split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert row.split()[:3] == ["busybox", "latest", busybox[7:19]]
    assert "ago" in row or "Less than a second" in row
    assert row.split()[-1].endswith("MB")


@ALSO_DOCKER
def test_images_quiet_prints_the_id_of_every_row_once_per_tag(pallet, busybox, busybox_tar):
    # docker/cli formatter/image.go: -q is the table's rows with only {{.ID}}, not deduplicated
    pallet.ok("tag", "busybox", "other:1.0")
    dangling = pallet.ok("import", str(busybox_tar)).out.strip()  # same content, a new ID, no tag
    short, newest = busybox[7:19], dangling[7:19]
    assert pallet.ok("images", "-q").lines == [newest, short, short]  # a dangling image: one row
    assert pallet.ok("images", "-q", "--digests").lines == [newest, short, short]
    assert pallet.ok("images", "-aq").lines == [newest, short, short]
    assert pallet.ok("images", "-q", "--no-trunc", "-f", "reference=other").lines == [busybox]
    assert pallet.ok("images", "-q", "-f", "dangling=false").lines == [short, short]
    assert pallet.ok("images", "-q", "-f", "dangling=true").lines == [newest]
    # -q applies to the table only: a format of one's own wins
    assert sorted(pallet.ok("images", "-q", "--format", "{{.Tag}}").lines) == ["1.0", "<none>", "latest"]


def test_images_no_trunc_shows_full_ids(pallet, busybox):
    assert busybox in pallet.ok("images", "--no-trunc").out


@ALSO_DOCKER
def test_images_format_template(pallet, busybox):
    r = pallet.ok("images", "--format", "{{.Repository}}:{{.Tag}}")
    assert r.lines == ["busybox:latest"]


@ALSO_DOCKER
def test_images_filter_by_reference_and_dangling(pallet, busybox, busybox_tar):
    pallet.ok("import", str(busybox_tar))  # same content, no tag: a dangling image
    assert pallet.ok("images", "--filter", "reference=busy*", "--format", "{{.Tag}}").lines == ["latest"]
    dangling = pallet.ok("images", "-f", "dangling=true", "--format", "{{.Repository}} {{.Tag}}").lines
    assert dangling == ["<none> <none>"]


def test_images_filter_label(pallet, busybox_tar):
    pallet.ok("import", "-c", "LABEL tier=web", str(busybox_tar), "web:1")
    pallet.ok("import", str(busybox_tar), "plain:1")
    assert pallet.ok("images", "--filter", "label=tier=web", "--format", "{{.Repository}}").lines == ["web"]


def test_images_positional_repository_filters(pallet, busybox):
    pallet.ok("tag", "busybox", "myapp:1.0")
    assert pallet.ok("images", "myapp", "--format", "{{.Repository}}:{{.Tag}}").lines == ["myapp:1.0"]


@ALSO_DOCKER
def test_import_from_stdin_with_changes_and_message(pallet, busybox_tar):
    r = pallet.ok("import", "-c", "ENV APP_ENV=production", "-c", "EXPOSE 80", "-c", "WORKDIR /srv",
                  "-m", "base layer", "-", "base:1", stdin=busybox_tar.read_bytes())
    doc = json.loads(pallet.ok("image", "inspect", "base:1").out)[0]
    assert doc["Id"] == r.out.strip()
    assert "APP_ENV=production" in doc["Config"]["Env"]
    assert doc["Config"]["ExposedPorts"] == {"80/tcp": {}}
    assert doc["Config"]["WorkingDir"] == "/srv"
    assert doc["Comment"] == "base layer"


@ALSO_DOCKER
def test_inspect_has_docker_field_names(pallet, busybox):
    doc = json.loads(pallet.ok("inspect", "busybox").out)[0]
    for key in ("Id", "RepoTags", "RepoDigests", "Created", "Config", "RootFS", "Size",
                "Architecture", "Os"):
        assert key in doc
    assert doc["RepoTags"] == ["busybox:latest"]
    assert doc["Config"]["Cmd"] == ["sh"]
    assert doc["RootFS"]["Type"] == "layers"


def test_inspect_format_len_of_layers(pallet, busybox):
    assert pallet.ok("inspect", "--format", "{{len .RootFS.Layers}}", "busybox").out == "1\n"


def test_inspect_unknown_object_fails_with_docker_message(pallet):
    r = pallet("inspect", "nosuch")
    assert r.code == 1
    assert "No such object: nosuch" in r.err


@ALSO_DOCKER
def test_history_shows_import_comment(pallet, busybox):
    r = pallet.ok("history", "busybox")
    assert r.lines[0].split()[:3] == ["IMAGE", "CREATED", "CREATED"]
    assert "Imported from -" in r.lines[1]  # docker streams a local file: the daemon sees "-"
    assert r.lines[1].startswith(busybox[7:19])


@ALSO_DOCKER
def test_tag_makes_a_second_name_for_the_same_image(pallet, busybox):
    pallet.ok("tag", "busybox:latest", "localhost:5000/team/app:v2")
    ids = pallet.ok("images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}").lines
    assert f"localhost:5000/team/app v2 {busybox[7:19]}" in ids
    assert f"busybox latest {busybox[7:19]}" in ids


def test_tag_rejects_invalid_reference(pallet, busybox):
    r = pallet("tag", "busybox", "Bad:Name")
    assert r.code == 1 and "invalid reference format" in r.err


@ALSO_DOCKER
def test_rmi_of_one_of_two_tags_only_untags(pallet, busybox):
    pallet.ok("tag", "busybox", "copy:1")
    r = pallet.ok("rmi", "copy:1")
    assert r.lines == ["Untagged: copy:1"]
    assert pallet.ok("images", "-q").lines == [busybox[7:19]]


def test_rmi_of_last_tag_deletes_image_and_its_layers(pallet, busybox):
    r = pallet.ok("rmi", "busybox")
    assert r.lines == ["Untagged: busybox:latest", f"Deleted: {busybox}"]
    assert pallet.ok("images", "-q").out == ""
    assert [p for p in (pallet.root / "layers").iterdir() if not p.name.startswith(".")] == []


def test_rmi_of_the_only_tag_of_an_image_with_children_untags_and_succeeds(pallet, busybox, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo > /child\n")
    pallet.ok("build", "-q", "-t", "child", str(tmp_path))
    r = pallet("rmi", "busybox")
    # moby: the untag stands; the image stays, as the parent `images -a` shows, and rmi exits 0
    assert (r.code, r.lines, r.err) == (0, ["Untagged: busybox:latest"], "")
    assert busybox[7:19] in pallet.ok("images", "-a", "-q").lines
    assert pallet.ok("run", "--rm", "child", "ls", "/child").out == "/child\n"
    r = pallet("rmi", busybox[7:19])  # by ID, the conflict is still Docker's
    assert r.code == 1 and "image has dependent child images" in r.err


def test_rmi_by_id_prefix(pallet, busybox):
    r = pallet.ok("rmi", busybox[7:13])
    assert f"Deleted: {busybox}" in r.lines


@ALSO_DOCKER
def test_rmi_by_id_with_several_repositories_must_be_forced(pallet, busybox):
    pallet.ok("tag", "busybox", "other:1")
    r = pallet("rmi", busybox[7:19])
    assert r.code == 1
    assert "(must be forced) - image is referenced in multiple repositories" in r.err
    r = pallet.ok("rmi", "-f", busybox[7:19])
    assert f"Deleted: {busybox}" in r.lines


@ALSO_DOCKER
def test_rmi_unknown_image_exits_1(pallet):
    r = pallet("rmi", "nosuch")
    assert r.code == 1
    assert r.err.strip() == f"{pallet.error_prefix}No such image: nosuch:latest"


def test_one_layer_is_stored_once_for_two_images(pallet, busybox, busybox_tar):
    pallet.ok("import", "-c", "CMD [\"true\"]", str(busybox_tar), "second:1")
    layer_dirs = [p for p in (pallet.root / "layers").iterdir() if not p.name.startswith(".")]
    assert len(layer_dirs) == 1
    diff_id = json.loads(pallet.ok("inspect", "second:1").out)[0]["RootFS"]["Layers"][0]
    assert layer_dirs[0].name == chain_ids([diff_id])[0][7:]


def test_flag_errors_exit_125_like_docker(pallet):
    r = pallet("images", "--bogus")
    assert r.code == 125
    assert r.err.startswith("unknown flag: --bogus")


# pallet only (not ALSO_DOCKER): usage errors name the program
def test_missing_argument_exits_1_like_docker(pallet):
    r = pallet("rmi")
    assert r.code == 1
    assert "'pallet rmi' requires at least 1 argument" in r.err
