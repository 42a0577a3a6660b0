"""login/logout and authenticated pull/push: htpasswd Basic, token auth, TLS, credential helpers."""
from __future__ import annotations

import base64
import json
import os
import stat

from palletcli import Pallet
from registry_fixtures import (PASSWORD, USER, basic_registry, docker_config,  # noqa: F401 - fixtures
                               tls_registry, token_registry)


def _login(pallet, host, password=PASSWORD):
    return pallet("login", "-u", USER, "--password-stdin", host, stdin=password.encode() + b"\n")


def test_push_without_credentials_is_unauthorized(pallet, busybox, basic_registry, docker_config):
    name = f"{basic_registry.host}/auth/nologin"
    pallet.ok("tag", "busybox", name)
    r = pallet("push", name)
    assert r.code == 1
    assert r.err.strip().splitlines()[-1] == "Error: unauthorized: authentication required"
    assert "Traceback" not in r.err


def test_login_with_wrong_password_fails_and_stores_nothing(pallet, basic_registry, docker_config):
    r = _login(pallet, basic_registry.host, "wrong")
    assert r.code == 1
    assert r.err.strip() == (f"Error: login attempt to http://{basic_registry.host}/v2/ failed with "
                             "status: 401 Unauthorized")
    assert not (docker_config / "config.json").exists()


def test_login_stores_docker_compatible_credentials_then_push_and_pull(pallet, busybox, basic_registry,
                                                                       docker_config, tmp_path):
    r = _login(pallet, basic_registry.host)
    assert r.code == 0, r.err
    assert r.lines == ["Login Succeeded"]
    assert "stored unencrypted" in r.err
    config = json.loads((docker_config / "config.json").read_text())
    auth = config["auths"][basic_registry.host]["auth"]
    assert base64.b64decode(auth).decode() == f"{USER}:{PASSWORD}"
    assert stat.S_IMODE(os.stat(docker_config / "config.json").st_mode) == 0o600
    name = f"{basic_registry.host}/auth/app:1"
    pallet.ok("tag", "busybox", name)
    pallet.ok("push", name)
    other = Pallet(tmp_path / "o" / "root", tmp_path / "o" / "run")
    assert other.ok("pull", "-q", name).lines == [name]


def test_logout_removes_credentials(pallet, basic_registry, docker_config):
    assert _login(pallet, basic_registry.host).code == 0
    assert pallet.ok("logout", basic_registry.host).lines == [
        f"Removing login credentials for {basic_registry.host}"]
    assert basic_registry.host not in json.loads((docker_config / "config.json").read_text())["auths"]
    assert pallet.ok("logout", basic_registry.host).lines == [f"Not logged in to {basic_registry.host}"]


def test_login_flag_errors_use_dockers_words(pallet, docker_config):
    r = pallet("login", "-p", "x", "--password-stdin", "127.0.0.1:1")
    assert r.code == 125 and "--password and --password-stdin are mutually exclusive" in r.err
    r = pallet("login", "--password-stdin", "127.0.0.1:1")
    assert r.code == 125 and "Must provide --username with --password-stdin" in r.err
    r = pallet("login", "127.0.0.1:1")
    assert r.code == 1 and "Cannot perform an interactive login from a non TTY device" in r.err


def test_credentials_written_by_docker_login_are_used(pallet, busybox, basic_registry, docker_config):
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (docker_config / "config.json").write_text(json.dumps(
        {"auths": {f"https://{basic_registry.host}": {"auth": token}}}))
    name = f"{basic_registry.host}/auth/dockerfile:1"
    pallet.ok("tag", "busybox", name)
    assert pallet.ok("push", "-q", name).lines == [name]


def test_credential_helper_from_cred_helpers_is_used(pallet, busybox, basic_registry, docker_config,
                                                     tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "helper.log"
    helper = bindir / "docker-credential-pallettest"
    helper.write_text(f"""#!/bin/sh
read server
echo "$1 $server" >> {log}
[ "$1" = get ] && printf '{{"ServerURL":"%s","Username":"{USER}","Secret":"{PASSWORD}"}}' "$server"
exit 0
""")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    (docker_config / "config.json").write_text(json.dumps(
        {"credHelpers": {basic_registry.host: "pallettest"}}))
    name = f"{basic_registry.host}/auth/helper:1"
    pallet.ok("tag", "busybox", name)
    pallet.ok("push", name)
    assert f"get {basic_registry.host}" in log.read_text()


def test_token_auth_login_push_pull_with_cached_tokens(pallet, busybox, token_registry, docker_config,
                                                       tmp_path):
    issuer = token_registry.extra["issuer"]
    name = f"{token_registry.host}/token/app:1"
    pallet.ok("tag", "busybox", name)
    denied = pallet("push", name)
    assert denied.code == 1 and "unauthorized" in denied.err, denied.err
    assert _login(pallet, token_registry.host, "nope").code == 1
    assert _login(pallet, token_registry.host).code == 0
    issuer.requests.clear()
    pallet.ok("push", name)
    push_requests = len(issuer.requests)
    assert push_requests <= 3, issuer.requests  # one token per scope, not one per request
    other = Pallet(tmp_path / "o" / "root", tmp_path / "o" / "run")
    issuer.requests.clear()
    assert other.ok("pull", "-q", name).lines == [name]
    assert [r["scopes"] for r in issuer.requests] == [["repository:token/app:pull"]]


def test_tls_registry_needs_its_ca_in_certs_d(pallet, busybox, tls_registry, docker_config, tmp_path):
    name = f"{tls_registry.host}/tls/app:1"
    pallet.ok("tag", "busybox", name)
    r = pallet("push", name)
    assert r.code == 1
    assert "tls: failed to verify certificate: x509: certificate signed by unknown authority" in r.err
    certs = tmp_path / "certs.d" / tls_registry.host
    certs.mkdir(parents=True)
    (certs / "ca.crt").write_bytes(tls_registry.extra["ca"].read_bytes())
    pallet.ok("push", name)
    other = Pallet(tmp_path / "o" / "root", tmp_path / "o" / "run")
    assert other.ok("pull", "-q", name).lines == [name]
