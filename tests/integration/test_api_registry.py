"""docker pull / push through `pallet system service`, against Debian's docker-registry on
loopback: the JSON progress stream docker/cli renders, and run pulling a missing image."""
from __future__ import annotations

import json

import pytest

from registry_fixtures import (PASSWORD, USER, basic_registry, docker_config,  # noqa: F401 - fixtures
                               registry)

pytestmark = pytest.mark.usefixtures("no_leaks")


def test_docker_push_then_pull_and_run_pulls_what_is_missing(docker_config, registry, api, pallet, busybox):
    name = f"{registry.host}/api/bb"
    api.docker_ok("tag", "busybox", name)
    r = api.docker_ok("push", name)
    assert "Pushed" in r.out and "latest: digest: sha256:" in r.out
    api.docker_ok("rmi", name)
    r = api.docker_ok("pull", name)
    assert f"Status: Downloaded newer image for {name}:latest" in r.out or "Image is up to date" in r.out
    assert r.out.strip().endswith(f"{name}:latest")
    api.docker_ok("rmi", name)
    r = api.docker("run", "--rm", name, "echo", "pulled")
    assert (r.code, r.out) == (0, "pulled\n"), r.err
    assert f"Unable to find image '{name}:latest' locally" in r.err
    r = api.docker("pull", f"{registry.host}/api/nosuch")
    assert r.code == 1 and "manifest unknown" in r.err


def test_x_registry_auth_carries_credentials_for_push_and_pull_as_dockerd_reads_them(
        docker_config, basic_registry, api, pallet, busybox):
    """The service reads no credentials of the client's: docker-py sends them per request
    as X-Registry-Auth (base64url JSON AuthConfig), and without them the registry refuses."""
    import docker
    name = f"{basic_registry.host}/api/secret"
    pallet.ok("tag", "busybox", name)
    client = docker.DockerClient(base_url=api.url)
    try:
        refused = list(client.api.push(name, stream=True, decode=True))
        assert "unauthorized" in refused[-1].get("error", ""), refused[-1]
        creds = {"username": USER, "password": PASSWORD}
        pushed = list(client.api.push(name, stream=True, decode=True, auth_config=creds))
        assert "error" not in pushed[-1] and pushed[-1].get("aux", {}).get("Digest", "").startswith("sha256:")
        pallet.ok("rmi", name)
        client.images.pull(name, tag="latest", auth_config=creds)
        assert pallet.ok("images", "-q", name).out.strip()
        status, _, body = api.request("POST", f"/images/create?fromImage={name}&tag=latest",
                                      headers={"X-Registry-Auth": "not base64 {"})
        assert status == 400 and json.loads(body)["message"].startswith("invalid X-Registry-Auth header:")
    finally:
        client.close()
    pallet.ok("rmi", name)


def test_distribution_answers_the_registry_descriptor_and_platforms(docker_config, registry, api, pallet,
                                                                     busybox):
    name = f"{registry.host}/api/dist"
    pallet.ok("tag", "busybox", name)
    pallet.ok("push", name)
    digest = pallet.ok("inspect", "--format", "{{index .RepoDigests 0}}", name).out.strip().split("@")[1]
    status, _, body = api.request("GET", f"/v1.50/distribution/{name}/json")
    assert status == 200, body
    doc = json.loads(body)
    assert doc["Descriptor"]["digest"] == digest and doc["Descriptor"]["size"] > 0
    assert doc["Descriptor"]["mediaType"].endswith("manifest.v2+json") or "oci" in doc["Descriptor"]["mediaType"]
    assert doc["Platforms"] == [{"architecture": "amd64", "os": "linux"}]
    status, _, body = api.request("GET", f"/v1.50/distribution/{registry.host}/api/nosuch/json")
    assert status == 404, body
    pallet.ok("rmi", name)


def test_docker_build_pull_refreshes_a_stale_base_and_platform_is_the_hosts_only(
        docker_config, registry, api, pallet, busybox, tmp_path):
    base = f"{registry.host}/api/base"
    pallet.ok("tag", "busybox", base)
    pallet.ok("push", base)
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "Dockerfile").write_text("FROM busybox\nRUN touch /marker\n")
    api.docker_ok("build", "-t", base, str(stale))  # the local tag now names another image
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {base}\nRUN test ! -e /marker\n")
    assert api.docker("build", "-t", "fresh", str(ctx)).code == 1  # without --pull: the local base
    r = api.docker("build", "--pull", "--platform", "linux/amd64", "-t", "fresh", str(ctx))
    assert r.code == 0, r.err
    r = api.docker("build", "--platform", "linux/arm64", str(ctx))
    assert r.code == 1 and "pallet builds for the host platform only" in r.err
    pallet.ok("rmi", "fresh", base)
