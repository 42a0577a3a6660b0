"""`system df` and `system prune` as Docker reports them."""
from __future__ import annotations

import pytest

from api_service import ALSO_DOCKER

pytestmark = pytest.mark.usefixtures("no_leaks")


def test_system_prune_deletes_unused_networks_as_its_warning_says(pallet, busybox):
    pallet.ok("network", "create", "idle")
    pallet.ok("network", "create", "held")
    pallet.ok("create", "--network", "held", "--name", "stopped", "busybox", "true")
    r = pallet.ok("system", "prune", "-f")
    # the stopped container goes first, then the networks nobody uses any more: both
    section = r.out.split("Deleted Networks:\n", 1)[1].split("\n\n", 1)[0]
    assert sorted(section.splitlines()) == ["held", "idle"]
    names = pallet.ok("network", "ls", "--format", "{{.Name}}").lines
    assert "idle" not in names and "held" not in names and "bridge" in names


def test_system_prune_keeps_a_network_a_container_uses(pallet, busybox):
    pallet.ok("network", "create", "held")
    pallet.ok("run", "-d", "--network", "held", "--name", "up", "busybox", "sleep", "100")
    r = pallet.ok("system", "prune", "-f")
    assert "Deleted Networks:" not in r.out
    assert "held" in pallet.ok("network", "ls", "--format", "{{.Name}}").lines
    pallet.ok("rm", "-f", "up")
    pallet.ok("network", "rm", "held")


def _two_step_image(pallet, tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo a > /a\nRUN echo b > /b\n")
    pallet.ok("build", "-q", "-t", "app", str(tmp_path))


@ALSO_DOCKER
def test_system_df_counts_top_level_images_not_build_steps(pallet, busybox, tmp_path):
    _two_step_image(pallet, tmp_path)
    assert len(pallet.ok("images", "-a", "-q").lines) == 3  # the first RUN's image is hidden
    pallet.ok("create", "--name", "user", "app", "true")
    rows = {line.split()[0]: line.split() for line in pallet.ok("system", "df").lines[1:]}
    assert rows["Images"][1:3] == ["2", "1"]  # as `images` lists them; one has a container


@ALSO_DOCKER
def test_system_df_verbose_prints_dockers_tables(pallet, busybox, tmp_path):
    _two_step_image(pallet, tmp_path)
    pallet.ok("create", "--name", "user", "-v", "data:/data", "app", "true")
    out = pallet.ok("system", "df", "-v").out
    sections = out.split("\n\n")
    assert sections[0] == "Images space usage:"
    head, *images = sections[1].splitlines()
    assert head.split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE", "SHARED", "SIZE",
                            "UNIQUE", "SIZE", "CONTAINERS"]
    assert [line.split()[:2] + line.split()[-1:] for line in images] == [
        ["app", "latest", "1"], ["busybox", "latest", "0"]]
    assert sections[2] == "Containers space usage:"
    head, row = sections[3].splitlines()
    assert head.split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "LOCAL", "VOLUMES", "SIZE",
                            "CREATED", "STATUS", "NAMES"]
    assert row.split()[1:4] == ["app", '"true"', "1"] and row.split()[-2:] == ["Created", "user"]
    assert sections[4] == "Local Volumes space usage:"
    assert [line.split() for line in sections[5].splitlines()] == [
        ["VOLUME", "NAME", "LINKS", "SIZE"], ["data", "1", "0B"]]
    assert sections[6] == "Build cache usage: 0B"
    assert sections[7].split() == ["CACHE", "ID", "CACHE", "TYPE", "SIZE", "CREATED", "LAST", "USED",
                                   "USAGE", "SHARED"]


def test_system_prune_until_keeps_networks_created_since(pallet, busybox):
    pallet.ok("network", "create", "recent")
    r = pallet.ok("system", "prune", "-f", "--filter", "until=1h")
    assert "Deleted Networks:" not in r.out  # created within the hour: kept
    r = pallet.ok("system", "prune", "-f", "--filter", "until=2030-01-01T00:00:00Z")
    assert "Deleted Networks:\nrecent\n" in r.out
