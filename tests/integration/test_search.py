"""`docker search` against a registry's catalog (Debian's docker-registry on loopback, images
pushed by pallet), and the API's `GET /images/search` answering from the same catalog."""
from __future__ import annotations

import json

import pytest

from registry_fixtures import docker_config, registry  # noqa: F401 - fixtures


@pytest.fixture(scope="module")
def pushed(registry, busybox_tar, tmp_path_factory):
    """Three repositories in the module's registry, pushed by pallet."""
    from palletcli import Pallet
    d = tmp_path_factory.mktemp("search-store")
    store = Pallet(d / "root", d / "run")
    store.ok("import", str(busybox_tar), "busybox:latest")
    for repo in ("search/busybox", "search/busybox-extra", "search/alpine"):
        store.ok("tag", "busybox", f"{registry.host}/{repo}")
        store.ok("push", "-q", f"{registry.host}/{repo}")
    return registry


def test_search_lists_matching_repositories_with_dockers_columns(pallet, pushed, docker_config):
    r = pallet.ok("search", f"{pushed.host}/search/busy")
    assert r.lines[0].split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]
    names = [line.split()[0] for line in r.lines[1:]]
    assert names == [f"{pushed.host}/search/busybox", f"{pushed.host}/search/busybox-extra"]
    assert all(line.split()[1] == "0" for line in r.lines[1:])  # no description, no stars


def test_search_limit_filter_and_format(pallet, pushed, docker_config):
    term = f"{pushed.host}/search"
    assert pallet.ok("search", "--limit", "1", "--format", "{{.Name}}", term).lines == [
        f"{pushed.host}/search/alpine"]
    assert pallet.ok("search", "-f", "is-official=true", "--format", "{{.Name}}", term).out == ""
    assert pallet.ok("search", "-f", "stars=0", "--format", "{{.Name}}:{{.StarCount}}", term).lines[0] == \
        f"{pushed.host}/search/alpine:0"
    r = pallet("search", "--limit", "101", term)
    assert r.code == 1 and r.err.strip() == "Error: limit 101 is outside the range of [1, 100]"
    r = pallet("search", "-f", "stars=many", term)
    assert r.code == 1 and r.err.strip() == "Error: invalid filter 'stars=many'"


def test_search_without_a_registry_uses_the_configured_ones(pallet, pushed, docker_config, monkeypatch):
    monkeypatch.setenv("PALLET_SEARCH_REGISTRIES", pushed.host)
    r = pallet.ok("search", "--format", "{{.Name}}", "alpine")
    assert r.lines == [f"{pushed.host}/search/alpine"]


def test_search_with_no_registry_configured_is_dockers_unreachable_index_error(pallet, docker_config,
                                                                                 monkeypatch):
    monkeypatch.delenv("PALLET_SEARCH_REGISTRIES", raising=False)
    monkeypatch.setenv("PALLET_DAEMON_CONFIG", "/nonexistent/daemon.json")
    r = pallet("search", "busybox")
    assert r.code == 1
    assert r.err.startswith('Error: Get "https://index.docker.io/v1/search?q=busybox&n=25": ')
    assert len(r.err.strip().splitlines()) == 1


def test_api_images_search_answers_from_the_same_catalog(api, pushed):
    r = api.docker_ok("search", "--format", "{{.Name}} {{.StarCount}}", f"{pushed.host}/search/busybox-")
    assert r.out.splitlines() == [f"{pushed.host}/search/busybox-extra 0"]
    status, _, body = api.request("GET", f"/images/search?term={pushed.host}/search/alpine")
    assert status == 200
    assert json.loads(body) == [{"name": f"{pushed.host}/search/alpine", "description": "",
                                 "star_count": 0, "is_official": False, "is_automated": False}]
