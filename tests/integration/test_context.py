"""`context ls|inspect|use|create|rm|show` in Docker's own store (`$DOCKER_CONFIG/contexts/meta/
<sha256 of name>/meta.json`, `currentContext` in config.json): a context made by pallet is one the
installed docker CLI uses, and the reverse. Verbs under a context for another engine go to that
engine (test_context_remote.py), never to the local store."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess

import pytest

pytestmark = pytest.mark.usefixtures("no_leaks")


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    conf = tmp_path / "docker-config"
    conf.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(conf))
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    return conf


def _docker(*argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    return subprocess.run(["docker", *argv], capture_output=True, text=True, env=env, timeout=60)


def test_context_create_writes_dockers_meta_json_and_docker_lists_it(pallet, docker_config):
    r = pallet.ok("context", "create", "remote", "--description", "pallet API",
                  "--docker", "host=unix:///run/pallet/pallet.sock")
    assert (r.out, r.err) == ("remote\n", 'Successfully created context "remote"\n')
    meta = docker_config / "contexts" / "meta" / hashlib.sha256(b"remote").hexdigest() / "meta.json"
    assert json.loads(meta.read_text()) == {
        "Name": "remote", "Metadata": {"Description": "pallet API"},
        "Endpoints": {"docker": {"Host": "unix:///run/pallet/pallet.sock", "SkipTLSVerify": False}}}
    assert "remote      pallet API" in _docker("context", "ls").stdout
    assert _docker("context", "create", "made-by-docker", "--docker", "host=tcp://127.0.0.1:1").returncode == 0
    r = pallet.ok("context", "ls")
    assert r.lines[0].split(None, 4)[:4] == ["NAME", "DESCRIPTION", "DOCKER", "ENDPOINT"]
    assert r.lines[1].split()[:2] == ["default", "*"]
    assert r.lines[2].split()[0] == "made-by-docker" and r.lines[2].split()[-1] == "tcp://127.0.0.1:1"
    assert r.lines[3].split() == ["remote", "pallet", "API", "unix:///run/pallet/pallet.sock"]
    assert pallet.ok("context", "ls", "-q").lines == ["default", "made-by-docker", "remote"]


def test_context_use_marks_the_current_one_and_rm_refuses_it_without_force(pallet, docker_config):
    pallet.ok("context", "create", "other", "--docker", "host=tcp://127.0.0.1:1")
    r = pallet.ok("context", "use", "other")
    assert (r.out, r.err) == ("other\n", 'Current context is now "other"\n')
    assert json.loads((docker_config / "config.json").read_text())["currentContext"] == "other"
    assert _docker("context", "show").stdout == "other\n"
    assert pallet.ok("context", "ls", "--format", "{{.Name}} {{.Current}}").lines == ["default false", "other true"]
    r = pallet("context", "rm", "other")
    assert r.code == 1 and r.err == 'Error: context "other" is in use, set -f flag to force remove\n'
    assert pallet.ok("context", "rm", "-f", "other").out == "other\n"
    assert "currentContext" not in json.loads((docker_config / "config.json").read_text())
    assert pallet.ok("context", "show").out == "default\n"


def test_context_errors_in_dockers_words(pallet, docker_config):
    pallet.ok("context", "create", "twice", "--docker", "host=tcp://127.0.0.1:1")
    cases = [
        (("context", "create", "twice"), 'context "twice" already exists'),
        (("context", "create", "default"), '"default" is a reserved context name'),
        (("context", "create", "bad name"), 'context name "bad name" is invalid, names are validated against '
                                            'regexp "^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$"'),
        (("context", "rm", "default"), 'context "default" cannot be removed'),
        (("context", "rm", "nosuch"), 'context "nosuch" does not exist'),
    ]
    for argv, message in cases:
        r = pallet(*argv)
        assert (r.code, r.err) == (1, f"Error: {message}\n"), argv
    r = pallet("context", "use", "nosuch")
    assert r.code == 1 and r.err.startswith('Error: context "nosuch": context not found: open ')
    r = pallet("context", "inspect", "nosuch")
    assert r.code == 1 and r.out == "[]\n"


def test_docker_cli_drives_the_pallet_service_through_a_context_pallet_made(api, pallet, busybox,
                                                                            docker_config):
    pallet.ok("context", "create", "pallet", "--docker", f"host={api.url}")
    pallet.ok("run", "-d", "--name", "seen-through-context", "busybox", "sleep", "60")
    r = _docker("--context", "pallet", "ps", "--format", "{{.Names}}")
    assert (r.returncode, r.stdout) == (0, "seen-through-context\n"), r.stderr
    pallet.ok("context", "use", "pallet")
    r = _docker("inspect", "--format", "{{.State.Running}}", "seen-through-context")
    assert (r.returncode, r.stdout) == (0, "true\n"), r.stderr
    pallet.ok("context", "use", "default")
    pallet.ok("rm", "-f", "seen-through-context")


def test_pallet_under_another_engines_context_talks_to_it_and_acts_locally_on_its_own(pallet, busybox,
                                                                                       docker_config,
                                                                                       monkeypatch):
    pallet.ok("context", "create", "elsewhere", "--docker", "host=tcp://127.0.0.1:1")
    pallet.ok("context", "create", "here", "--docker", f"host=unix://{pallet.runroot}/pallet.sock")
    r = pallet("--context", "elsewhere", "images")
    assert r.code == 1 and r.out == ""
    assert r.err == "Error: Cannot connect to the Docker daemon at tcp://127.0.0.1:1. Is the docker daemon running?\n"
    pallet.ok("create", "--name", "kept", "busybox")
    monkeypatch.setenv("DOCKER_CONTEXT", "elsewhere")
    assert pallet("rm", "-f", "kept").code == 1  # sent to the other engine (which is not there)
    assert pallet.ok("--context", "default", "ps", "-aq").out != ""
    assert pallet.ok("context", "show").out == "elsewhere\n"  # context verbs are the client's own
    monkeypatch.delenv("DOCKER_CONTEXT")
    pallet.ok("context", "use", "here")
    assert "busybox" in pallet.ok("images").out
    assert "busybox" in pallet.ok("--context", "default", "images").out
    pallet.ok("rm", "kept")
    r = pallet("--context", "nosuch", "ps")
    assert r.code == 1 and r.err.startswith('Error: unable to resolve docker endpoint: context "nosuch": '
                                            "context not found")


def test_context_export_import_and_update_round_trip_with_the_docker_cli(pallet, docker_config, tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    for key in ("ca", "cert", "key"):
        (tmp_path / f"{key}.src").write_bytes(f"{key} material\n".encode())
    pallet.ok("context", "create", "secure", "--description", "with tls", "--docker",
              "host=tcp://127.0.0.1:2376,ca=ca.src,cert=cert.src,key=key.src")
    r = pallet.ok("context", "export", "secure")
    assert (r.out, r.err) == ("", 'Written file "secure.dockercontext"\n')
    r = pallet("context", "export", "secure")
    assert (r.code, r.err) == (1, "Error: open secure.dockercontext: file exists\n")
    assert _docker("context", "import", "via-docker", "secure.dockercontext").returncode == 0
    r = _docker("context", "inspect", "-f", "{{json .TLSMaterial}} {{.Endpoints.docker.Host}}", "via-docker")
    assert r.stdout == '{"docker":["ca.pem","cert.pem","key.pem"]} tcp://127.0.0.1:2376\n', r.stderr
    assert _docker("context", "export", "via-docker", "from-docker.dockercontext").returncode == 0
    r = pallet.ok("context", "import", "back", "from-docker.dockercontext")
    assert (r.out, r.err) == ("back\n", 'Successfully imported context "back"\n')
    r = pallet.ok("context", "inspect", "-f", "{{.Metadata.Description}} {{json .TLSMaterial}}", "back")
    assert r.out == 'with tls {"docker":["ca.pem","cert.pem","key.pem"]}\n'
    tls = docker_config / "contexts" / "tls" / hashlib.sha256(b"back").hexdigest() / "docker"
    assert (tls / "key.pem").read_bytes() == b"key material\n" and (tls / "key.pem").stat().st_mode & 0o077 == 0
    r = pallet.ok("context", "import", "piped", "-", stdin=(tmp_path / "secure.dockercontext").read_bytes())
    assert r.out == "piped\n"
    r = pallet("context", "import", "back", "secure.dockercontext")
    assert (r.code, r.err) == (1, 'Error: context "back" already exists\n')
    r = pallet.ok("context", "update", "back", "--description", "moved", "--docker", "host=unix:///run/x.sock")
    assert (r.out, r.err) == ("back\n", 'Successfully updated context "back"\n')
    r = _docker("context", "inspect", "-f", "{{json .Metadata}} {{.Endpoints.docker.Host}} "
                "{{json .TLSMaterial}}", "back")
    assert '"Metadata":{"Description":"moved"}' in r.stdout, r.stderr
    assert r.stdout.endswith(" unix:///run/x.sock {}\n")  # a new endpoint drops the old TLS material, as docker
    r = pallet("context", "update", "nosuch", "--description", "x")
    assert r.code == 1 and r.err.startswith('Error: context "nosuch": context not found')


def test_context_import_reads_only_its_own_entries_from_a_hostile_archive(pallet, docker_config, tmp_path):
    # an archive names no path on this host: only meta.json and tls/docker/{ca,cert,key}.pem are
    # read, by name; links, ../ and absolute names are never followed or written
    import io
    import tarfile
    sentinel = tmp_path / "outside"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add(name, data=b"", **kw):
            info = tarfile.TarInfo(name)
            for k, v in kw.items():
                setattr(info, k, v)
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if info.size else None)
        add("meta.json", json.dumps({"Name": "x", "Metadata": {}, "Endpoints": {
            "docker": {"Host": "unix:///run/x.sock", "SkipTLSVerify": False}}}).encode())
        add("tls/docker/ca.pem", type=tarfile.SYMTYPE, linkname="/etc/shadow")
        add("tls/docker/cert.pem", type=tarfile.LNKTYPE, linkname="/etc/passwd")
        add(f"../../../..{sentinel}", b"evil")
        add(str(sentinel), b"evil")
        add("tls/docker/../../../../outside", b"evil")
    (tmp_path / "hostile.dockercontext").write_bytes(buf.getvalue())
    r = pallet.ok("context", "import", "hostile", str(tmp_path / "hostile.dockercontext"))
    assert r.out == "hostile\n"
    assert not sentinel.exists()
    r = pallet.ok("context", "inspect", "-f", "{{.Endpoints.docker.Host}} {{json .TLSMaterial}}", "hostile")
    assert r.out == "unix:///run/x.sock {}\n"  # the linked TLS files were not taken
    assert not (docker_config / "contexts" / "tls").exists() or not any(
        (docker_config / "contexts" / "tls").rglob("*.pem"))
    r = pallet("context", "import", "broken", "-", stdin=b"not a tar at all" * 100)
    assert r.code == 1 and r.err.startswith("Error: invalid context archive: ") and r.err.count("\n") == 1
    assert "broken" not in pallet.ok("context", "ls", "-q").out
