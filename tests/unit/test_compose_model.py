"""Compose files as docker compose v2 reads them: discovery, names, environment, interpolation,
merging, profiles, and one-line errors naming the file and the path, before anything runs.

`pallet compose config` touches no container, so these run in-process without root.
"""
from __future__ import annotations

import json
import textwrap

import pytest

from palletcli import Pallet
from pallet.compose.interpolation import substitute
from pallet.errors import InvalidArgument


@pytest.fixture
def compose(tmp_path, monkeypatch):
    """`pallet compose ...` run in a project directory of its own, with a clean environment."""
    project = tmp_path / "My_App"
    project.mkdir()
    monkeypatch.chdir(project)
    for var in ("COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "GREETING", "PORT", "TAG"):
        monkeypatch.delenv(var, raising=False)
    p = Pallet(tmp_path / "root", tmp_path / "run")

    def run(*argv, files: dict | None = None):
        for name, text in (files or {}).items():
            path = project / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return p("compose", *argv)
    run.dir = project
    return run


def _env(values: dict):
    return values.get


def test_interpolation_forms_as_the_specification_lists_them():
    env = _env({"SET": "v", "EMPTY": ""})
    assert substitute("${SET} $SET ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d}", env) == "v v d d "
    assert substitute("${SET:+alt} ${EMPTY:+alt} ${EMPTY+alt} ${UNSET+alt}", env) == "alt  alt "
    assert substitute("$$SET costs $$5 ${UNSET:-${SET}}", env) == "$SET costs $5 v"


def test_interpolation_required_variable_names_the_path():
    with pytest.raises(InvalidArgument) as err:
        substitute("${DB_PASSWORD:?set it in .env}", _env({}), "services.db.environment.PW")
    assert str(err.value) == ("error while interpolating services.db.environment.PW: required variable "
                              "DB_PASSWORD is missing a value: set it in .env")


def test_unset_variable_is_blank_with_compose_warning(compose):
    r = compose("config", files={"compose.yaml": "services:\n  web:\n    image: busybox:${TAG}\n"})
    assert r.code == 0, r.err
    assert 'WARN[0000] The "TAG" variable is not set. Defaulting to a blank string.' in r.err
    assert "image: 'busybox:'" in r.out


def test_project_name_is_the_directory_name_normalised(compose):
    r = compose("config", "--format", "json", files={"compose.yaml": "services:\n  web:\n    image: busybox\n"})
    doc = json.loads(r.out)
    assert doc["name"] == "my_app"
    assert doc["networks"] == {"default": {"name": "my_app_default"}}
    assert doc["services"]["web"]["networks"] == {"default": None}


def test_project_name_precedence_flag_env_then_file(compose, monkeypatch):
    files = {"compose.yaml": "name: fromfile\nservices:\n  web:\n    image: busybox\n"}
    assert json.loads(compose("config", "--format", "json", files=files).out)["name"] == "fromfile"
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", "fromenv")
    assert json.loads(compose("config", "--format", "json").out)["name"] == "fromenv"
    assert json.loads(compose("-p", "fromflag", "config", "--format", "json").out)["name"] == "fromflag"


def test_invalid_project_name_is_refused(compose):
    r = compose("-p", "Bad Name!", "config", files={"compose.yaml": "services:\n  web:\n    image: busybox\n"})
    assert r.code == 1
    assert r.err.strip() == ('invalid project name "Bad Name!": must consist only of lowercase alphanumeric '
                             "characters, hyphens, and underscores as well as start with a letter or number")


def test_no_compose_file_is_compose_error(compose):
    r = compose("config")
    assert (r.code, r.err.strip()) == (1, "no configuration file provided: not found")


def test_override_file_is_merged_by_the_specification_rules(compose):
    r = compose("config", "--format", "json", files={
        "compose.yaml": """
            services:
              web:
                image: busybox
                command: ["sh", "-c", "one"]
                environment: [A=1, B=2]
                ports: ["8080:80"]
                volumes: ["./a:/data", "logs:/logs"]
            volumes:
              logs: {}
            """,
        "compose.override.yaml": """
            services:
              web:
                command: sh -c two
                environment: {B: "3", C: "4"}
                ports: ["9090:90"]
                volumes: ["./b:/data"]
            """})
    assert r.code == 0, r.err
    web = json.loads(r.out)["services"]["web"]
    assert web["command"] == ["sh", "-c", "two"]
    assert web["environment"] == {"A": "1", "B": "3", "C": "4"}
    assert [p["published"] for p in web["ports"]] == ["8080", "9090"]
    assert {v["target"]: v.get("source") for v in web["volumes"]} == {
        "/data": str(compose.dir / "b"), "/logs": "logs"}


def test_repeated_f_merges_in_order_and_sets_the_project_directory(compose):
    r = compose("-f", "base/one.yml", "-f", "two.yml", "config", "--format", "json", files={
        "base/one.yml": "services:\n  web:\n    image: busybox\n    build: ./ctx\n",
        "two.yml": "services:\n  web:\n    image: other\n"})
    doc = json.loads(r.out)
    assert doc["name"] == "base"
    assert doc["services"]["web"]["image"] == "other"
    assert doc["services"]["web"]["build"]["context"] == str(compose.dir / "base" / "ctx")


def test_docker_compose_yml_found_in_a_parent_directory(compose, monkeypatch):
    compose("config", files={"docker-compose.yml": "services:\n  web:\n    image: busybox\n"})
    sub = compose.dir / "deep" / "er"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    r = compose("config", "--services")
    assert (r.code, r.out) == (0, "web\n")


def test_dotenv_and_env_file_feed_interpolation_the_shell_wins(compose, monkeypatch):
    files = {"compose.yaml": "services:\n  web:\n    image: busybox:${TAG}\n    environment:\n      - G=${GREETING:-hi}\n",
             ".env": "TAG=1.0\nGREETING='from dotenv'  \n",
             "other.env": 'TAG="2.0"\n'}
    web = json.loads(compose("config", "--format", "json", files=files).out)["services"]["web"]
    assert (web["image"], web["environment"]) == ("busybox:1.0", {"G": "from dotenv"})
    web = json.loads(compose("--env-file", "other.env", "config", "--format", "json").out)["services"]["web"]
    assert (web["image"], web["environment"]) == ("busybox:2.0", {"G": "hi"})
    monkeypatch.setenv("TAG", "shell")
    assert json.loads(compose("config", "--format", "json").out)["services"]["web"]["image"] == "busybox:shell"


def test_anchors_merge_keys_and_extensions(compose):
    r = compose("config", "--format", "json", files={"compose.yaml": """
        x-base: &base
          image: busybox
          environment: {A: "1"}
        services:
          one:
            <<: *base
          two:
            <<: *base
            environment: {A: "2"}
        """})
    doc = json.loads(r.out)
    assert doc["services"]["one"]["environment"] == {"A": "1"}
    assert doc["services"]["two"] == {**doc["services"]["one"], "environment": {"A": "2"}}
    assert doc["x-base"]["image"] == "busybox"


def test_profiles_enable_services_and_naming_a_service_enables_its_profile(compose, monkeypatch):
    files = {"compose.yaml": """
        services:
          web: {image: busybox}
          debug: {image: busybox, profiles: [dev]}
        """}
    assert compose("config", "--services", files=files).out == "web\n"
    assert compose("--profile", "dev", "config", "--services").out == "debug\nweb\n"
    assert compose("config", "--profiles").out == "dev\n"
    assert compose("config", "--services", "debug").out == "debug\nweb\n"
    monkeypatch.setenv("COMPOSE_PROFILES", "dev")
    assert compose("config", "--services").out == "debug\nweb\n"


def test_config_quiet_and_volumes(compose):
    files = {"compose.yaml": "services:\n  web:\n    image: busybox\n    volumes: [data:/d]\nvolumes:\n  data:\n"}
    assert (compose("config", "-q", files=files).out, compose("config", "--volumes").out) == ("", "data\n")


def test_extends_and_include(compose):
    r = compose("config", "--format", "json", files={
        "common.yml": "services:\n  base:\n    image: busybox\n    environment: {A: '1'}\n",
        "sub/compose.yaml": "services:\n  cache:\n    image: busybox\n",
        "compose.yaml": """
            include: [sub/compose.yaml]
            services:
              web:
                extends: {file: common.yml, service: base}
                environment: {B: '2'}
            """})
    assert r.code == 0, r.err
    services = json.loads(r.out)["services"]
    assert services["web"]["environment"] == {"A": "1", "B": "2"}
    assert services["cache"]["image"] == "busybox"


@pytest.mark.parametrize("text, expected", [
    ("services:\n  web:\n    image: busybox\n    ports: [true]\n", "services.web.ports[0]"),
    ("services:\n  web:\n    image: busybox\n    restrat: always\n",
     "services.web additional properties 'restrat' not allowed"),
    ("services:\n  web:\n    image: busybox\n    environment: 5\n", "services.web.environment"),
])
def test_schema_errors_are_one_line_naming_file_and_path(compose, text, expected):
    r = compose("config", files={"compose.yaml": text})
    assert r.code == 1
    assert len(r.err.strip().splitlines()) == 1
    assert r.err.startswith(f"validating {compose.dir / 'compose.yaml'}: ")
    assert expected in r.err


def test_a_file_that_is_not_yaml(compose):
    r = compose("config", files={"compose.yaml": "services:\n  web: [\n"})
    assert r.code == 1 and r.err.startswith(f"{compose.dir / 'compose.yaml'}: yaml: line ")
    assert len(r.err.strip().splitlines()) == 1


@pytest.mark.parametrize("services, expected", [
    ("a: {image: busybox, depends_on: [b]}\n  b: {image: busybox, depends_on: [a]}",
     "dependency cycle detected: a -> b -> a"),
    ("a: {image: busybox, networks: [back]}", 'services.a.networks.back: service "a" refers to undefined network back'),
    ("a: {image: busybox, volumes: ['data:/d']}", 'services.a.volumes[0]: service "a" refers to undefined volume data'),
    ("a: {image: busybox, secrets: [token]}", 'services.a.secrets[0]: service "a" refers to undefined secret token'),
    ("a: {image: busybox, depends_on: [ghost]}",
     'services.a.depends_on.ghost: service "a" depends on undefined service "ghost"'),
    ("a: {image: '${NOPE:?must be set}'}",
     "compose.yaml: error while interpolating services.a.image: required variable NOPE is missing a value: "
     "must be set"),
])
def test_invalid_projects_are_refused_before_anything_is_made(compose, services, expected):
    r = compose("up", "-d", files={"compose.yaml": f"services:\n  {services}\n"})
    assert r.code == 1, r.out
    assert expected in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert " Container " not in r.err and " Network " not in r.err


def test_compose_flag_errors_exit_1_as_docker_compose(compose):
    r = compose("up", "--no-such-flag", files={"compose.yaml": "services:\n  web:\n    image: busybox\n"})
    assert (r.code, r.err.strip()) == (1, "unknown flag: --no-such-flag")


def test_the_compose_core_never_imports_the_cli():
    """compose/ drives the services like any edge would; the CLI and an API sit above it."""
    import ast
    from pathlib import Path
    import pallet.compose
    for path in Path(pallet.compose.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            assert not any(n.startswith(("..cli", "pallet.cli")) for n in names), f"{path.name} imports {names}"


def test_compose_file_variable_and_project_directory(compose, monkeypatch):
    compose("config", files={"a.yml": "services:\n  web:\n    image: one\n    volumes: ['./d:/d']\n",
                             "b.yml": "services:\n  web:\n    image: two\n"})
    monkeypatch.setenv("COMPOSE_FILE", "a.yml:b.yml")
    web = json.loads(compose("config", "--format", "json").out)["services"]["web"]
    assert web["image"] == "two"
    other = compose.dir.parent / "elsewhere"
    other.mkdir()
    doc = json.loads(compose("--project-directory", str(other), "-f", "a.yml", "config", "--format", "json").out)
    assert doc["name"] == "elsewhere"  # named after the project directory; paths relative to it
    assert doc["services"]["web"]["volumes"][0]["source"] == str(other / "d")


def test_a_key_given_twice_is_an_error_but_merge_keys_may_be_overridden(compose):
    r = compose("config", files={"compose.yaml": "services:\n  web:\n    image: a\n    image: b\n"})
    assert r.code == 1
    assert r.err.strip() == (f'{compose.dir / "compose.yaml"}: yaml: line 4: mapping key "image" '
                             "already defined at line 3")
    r = compose("config", "--format", "json", files={
        "compose.yaml": "x-a: &x {image: a}\nservices:\n  web:\n    <<: *x\n    image: b\n"})
    assert json.loads(r.out)["services"]["web"]["image"] == "b"


def test_a_compose_file_read_from_stdin(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = Pallet(tmp_path / "root", tmp_path / "run")
    r = p("compose", "-p", "piped", "-f", "-", "config", "--services", stdin=b"services:\n  web:\n    image: busybox\n")
    assert (r.code, r.out) == (0, "web\n"), r.err
