"""--filter, -e/--env-file and -p/--expose; expected texts checked against the docker CLI."""
import pytest

from pallet.errors import InvalidArgument, UsageError
from pallet.opts.env import (env_dict, env_options, merge_env, parse_env, process_env,
                             read_env_file)
from pallet.opts.filters import Filters, parse_filters
from pallet.opts.ports import (PortBinding, parse_expose, parse_publish, parse_publish_specs,
                               port_key, split_proto_port)

# -- filters --------------------------------------------------------------------------


def test_filters_group_values_by_lowercased_trimmed_name():
    parsed = parse_filters([" Label = a ", "label=b", "label=a", "dangling=true", ""],
                           {"label", "dangling"})
    assert parsed == {"label": ["a", "b"], "dangling": ["true"]}


def test_filter_without_equals_is_a_flag_error():
    with pytest.raises(UsageError, match=r"^bad format of filter \(expected name=value\)$"):
        parse_filters(["foo"], {"foo"})


def test_unknown_filter_name_is_rejected():
    with pytest.raises(InvalidArgument, match="^invalid filter 'foo'$") as info:
        parse_filters(["foo=bar"], {"label"})
    assert not isinstance(info.value, UsageError)  # the daemon's answer: exit 1, not 125


@pytest.mark.parametrize("values, labels, expected", [
    ([], {}, True),
    (["label=a"], {"a": "1"}, True),
    (["label=a"], {}, False),
    (["label=a=1"], {"a": "1"}, True),
    (["label=a=2"], {"a": "1"}, False),
    (["label=a=1", "label=b"], {"a": "1"}, False),  # every label filter must match
    (["label=a="], {"a": ""}, True),
    (["label=a=b=c"], {"a": "b=c"}, True),
])
def test_label_filters(values, labels, expected):
    assert Filters.parse(values, {"label"}).match_label(labels) is expected


@pytest.mark.parametrize("values, expected", [
    (["dangling=true"], True), (["dangling=1"], True),
    (["dangling=false"], False), (["dangling=0"], False),
    (["dangling=true", "dangling=1"], True),
])
def test_boolean_filters(values, expected):
    assert Filters.parse(values, {"dangling"}).bool_value("dangling") is expected


@pytest.mark.parametrize("values, message", [
    (["dangling=maybe"], "invalid filter 'dangling=maybe'"),
    (["dangling=true", "dangling=false"], "invalid filter 'dangling=true,false'"),
])
def test_boolean_filter_rejects_other_values(values, message):
    with pytest.raises(InvalidArgument) as info:
        Filters.parse(values, {"dangling"}).bool_value("dangling")
    assert str(info.value) == message


def test_absent_boolean_filter_gives_the_default():
    assert Filters().bool_value("dangling", default=False) is False


def test_name_id_and_exact_matching():
    f = Filters.parse(["name=^web", "id=abc", "status=running"])
    assert f.match("name", "web-1") and not f.match("name", "db-web")
    assert f.fuzzy_match("id", "abcdef") and not f.fuzzy_match("id", "0abc")
    assert f.exact_match("status", "running") and not f.exact_match("status", "exited")
    assert f.match("absent", "anything") and "status" in f and "absent" not in f
    assert f.get("status") == ["running"] and f.get("absent") == []


def test_invalid_regexp_in_name_filter_matches_nothing_but_the_exact_name():
    f = Filters.parse(["name=["])
    assert not f.match("name", "web") and f.match("name", "[")

# -- environment ----------------------------------------------------------------------


def test_env_value_with_equals_is_kept_verbatim():
    assert parse_env("A=b=c") == "A=b=c"
    assert parse_env("A=") == "A="


def test_bare_env_key_takes_the_host_value_or_stays_bare():
    host = {"HOME": "/root"}.get
    assert parse_env("HOME", host) == "HOME=/root"
    assert parse_env("NOPE", host) == "NOPE"


def test_env_without_a_name_is_rejected():
    with pytest.raises(UsageError, match='^invalid argument "=x" for "-e, --env" flag: '
                                         "invalid environment variable: =x$"):
        parse_env("=x")


def test_env_file_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "app.env"
    path.write_bytes(b"\xef\xbb\xbfA=1\n  # comment\n\n  B = spaced \nHOSTVAR\nGONE\r\nC=\"q\"\n")
    lookup = {"HOSTVAR": "h"}.get
    # "B " has whitespace in the name: Docker refuses it, so test without that line too.
    with pytest.raises(UsageError) as info:
        read_env_file(str(path), lookup)
    assert str(info.value) == f"invalid env file ({path}): variable 'B ' contains whitespaces"
    path.write_bytes(b"\xef\xbb\xbfA=1\n  # comment\n\n  B= spaced \nHOSTVAR\nGONE\r\nC=\"q\"\n")
    assert read_env_file(str(path), lookup) == ["A=1", "B= spaced ", "HOSTVAR=h", "GONE",
                                                'C="q"']


def test_env_file_line_without_a_name_is_an_error(tmp_path):
    path = tmp_path / "bad.env"
    path.write_text("=x\n")
    with pytest.raises(UsageError) as info:
        read_env_file(str(path))
    assert str(info.value) == f"invalid env file ({path}): no variable name on line '=x'"


def test_missing_env_file_is_reported_like_go(tmp_path):
    missing = tmp_path / "nope.env"
    with pytest.raises(UsageError, match=f"^open {missing}: no such file or directory$"):
        read_env_file(str(missing))


def test_env_file_with_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "bin.env"
    path.write_bytes(b"A=1\nB=\xff\n")
    with pytest.raises(UsageError, match=r"contains invalid utf8 bytes at line 2: \[66 61 255\]$"):
        read_env_file(str(path))


def test_env_flags_come_after_env_files_so_they_win(tmp_path):
    path = tmp_path / "a.env"
    path.write_text("A=file\nB=file\n")
    env = env_options(["A=flag"], [str(path)])
    assert env == ["A=file", "B=file", "A=flag"]
    assert merge_env(["PATH=/bin"], env) == ["A=flag", "B=file", "PATH=/bin"]


@pytest.mark.parametrize("image_env, overrides, expected", [
    (["PATH=/bin", "A=1"], [], ["PATH=/bin", "A=1"]),
    (["PATH=/bin", "A=1"], ["A=2"], ["A=2", "PATH=/bin"]),
    (["PATH=/bin"], ["B=1", "A=1", "B=2"], ["B=2", "A=1", "PATH=/bin"]),
    (["PATH=/bin", "A=1"], ["A"], ["A", "PATH=/bin"]),
    (None, ["A=1"], ["A=1"]),
])
def test_user_env_comes_first_and_replaces_image_keys(image_env, overrides, expected):
    assert merge_env(image_env, overrides) == expected


def test_process_env_drops_bare_keys_and_keeps_default_positions():
    defaults = ["PATH=/usr/bin", "HOSTNAME=abc"]
    assert process_env(defaults, ["A=1", "PATH=/x", "GONE", "HOSTNAME"]) == ["PATH=/x", "A=1"]


def test_env_dict_ignores_bare_keys():
    assert env_dict(["A=1", "B", "C=x=y"]) == {"A": "1", "C": "x=y"}

# -- ports ----------------------------------------------------------------------------


@pytest.mark.parametrize("spec, bindings", [
    ("80", [("", "", 80, "tcp")]),
    ("8080:80", [("", "8080", 80, "tcp")]),
    (":80", [("", "", 80, "tcp")]),
    ("127.0.0.1:8080:80/udp", [("127.0.0.1", "8080", 80, "udp")]),
    ("127.0.0.1::80", [("127.0.0.1", "", 80, "tcp")]),
    ("[::1]:80:80", [("::1", "80", 80, "tcp")]),
    ("::1:80:80", [("::1", "80", 80, "tcp")]),
    ("80/SCTP", [("", "", 80, "sctp")]),
    ("80/", [("", "", 80, "tcp")]),
    ("8080-8081:80-81", [("", "8080", 80, "tcp"), ("", "8081", 81, "tcp")]),
    ("80-81", [("", "", 80, "tcp"), ("", "", 81, "tcp")]),
    ("8000-8010:80", [("", "8000-8010", 80, "tcp")]),  # a pool for one port
    ("published=8080,target=80,protocol=udp", [("", "8080", 80, "udp")]),
    ("target=80", [("", "", 80, "tcp")]),
])
def test_publish_specs(spec, bindings):
    assert parse_publish(spec) == [PortBinding(*b) for b in bindings]


@pytest.mark.parametrize("spec, message", [
    ("70000:80", "invalid hostPort: 70000"),
    ("5-3:80", "invalid hostPort: 5-3"),
    ("80:abc", "invalid containerPort: abc"),
    ("80:70000", "invalid containerPort: 70000"),
    ("1:2/sctpx", "invalid proto: sctpx"),
    ("8080-8081:80-82", "invalid ranges specified for container and host Ports: 80-82 and 8080-8081"),
    ("1.2.3:80:80", "invalid IP address: 1.2.3"),
    ("fe80::1%eth0:80:80", "invalid IP address: fe80::1%eth0"),
    ("80:", "no port specified: 80:<empty>"),
    ("/tcp", "no port specified: /tcp<empty>"),
    ("[::1:80:80", "invalid IP address [::1: address [::1:: missing ']' in address"),
    ("[::1]x:80:80", "invalid IP address [::1]x: address [::1]x:: missing port in address"),
    ("published=80,bogus", "invalid publish opts format (should be name=value but got 'bogus')"),
])
def test_publish_rejects_with_nat_messages(spec, message):
    with pytest.raises(UsageError) as info:
        parse_publish(spec)
    assert str(info.value) == message


def test_publish_specs_group_bindings_by_port_key():
    exposed, bindings = parse_publish_specs(["8080:80", "127.0.0.1:9090:80", "53:53/udp"])
    assert exposed == ["80/tcp", "53/udp"]
    assert [b.host_port for b in bindings["80/tcp"]] == ["8080", "9090"]
    assert bindings["53/udp"][0].key == "53/udp"


@pytest.mark.parametrize("spec, keys", [
    ("80", ["80/tcp"]), ("80/udp", ["80/udp"]),
    ("8000-8002", ["8000/tcp", "8001/tcp", "8002/tcp"]),
])
def test_expose(spec, keys):
    assert parse_expose(spec) == keys


@pytest.mark.parametrize("spec, message", [
    ("80:90", "invalid port format for --expose: 80:90"),
    ("9-x", 'invalid range format for --expose: 9-x, error: strconv.ParseUint: parsing "x": invalid syntax'),
    ("70000", 'invalid range format for --expose: 70000, error: strconv.ParseUint: parsing "70000": value out of range'),
    ("9-5", "invalid range format for --expose: 9-5, error: invalid range specified for port: 9-5"),
])
def test_expose_rejects_with_dockers_messages(spec, message):
    with pytest.raises(UsageError) as info:
        parse_expose(spec)
    assert str(info.value) == message


def test_port_keys_and_proto_split():
    assert port_key(80) == "80/tcp" and port_key("53", "udp") == "53/udp"
    assert split_proto_port("53/udp") == ("udp", "53")
    assert split_proto_port("53") == ("tcp", "53")
    assert split_proto_port("") == ("", "")


def test_help_aligns_every_flag_past_the_longest_one_as_cobra_does():
    from pallet.cli.flags import Command, F, help_text
    text = help_text(Command("x", "[OPTIONS]", "Do x", None, [
        F("detach", "d", help="Run in background"),
        F("health-start-period", kind="str", help="Start period")]))
    lines = [ln for ln in text.splitlines() if ln.startswith("  ")]
    longest = len("      --health-start-period string")
    assert lines[0].index("Run in background") == lines[1].index("Start period") == longest + 3


@pytest.mark.parametrize("text, expected", [
    ("linux/amd64", {"os": "linux", "architecture": "amd64"}),
    ("Linux/ARM64/v8", {"os": "linux", "architecture": "arm64", "variant": "v8"}),
    ("amd64", {"os": "linux", "architecture": "amd64"}),   # a lone word is an architecture
    ("", None),
])
def test_platform_is_read_as_containerd_reads_it(text, expected):
    from pallet.opts.platform import parse_platform
    assert parse_platform(text) == expected


@pytest.mark.parametrize("text", ["linux/", "/amd64", "a/b/c/d"])
def test_a_malformed_platform_is_refused_in_dockers_words(text):
    from pallet.opts.platform import parse_platform
    with pytest.raises(InvalidArgument, match="unknown operating system or architecture"):
        parse_platform(text)


def test_link_env_groups_three_or_more_consecutive_ports_as_moby_does():
    from pallet.opts.linkenv import link_env
    env = link_env("/web/db", "10.88.0.5", ["8000/tcp", "8001/tcp", "8002/tcp", "9000/tcp"], ["HOME=/root", "A=1"])
    assert env[:7] == ["DB_PORT=tcp://10.88.0.5:8000",
                       "DB_PORT_8000_TCP_START=tcp://10.88.0.5:8000", "DB_PORT_8000_TCP_ADDR=10.88.0.5",
                       "DB_PORT_8000_TCP_PROTO=tcp", "DB_PORT_8000_TCP_PORT_START=8000",
                       "DB_PORT_8000_TCP_END=tcp://10.88.0.5:8002", "DB_PORT_8000_TCP_PORT_END=8002"]
    assert "DB_PORT_9000_TCP=tcp://10.88.0.5:9000" in env
    assert env[-2:] == ["DB_NAME=/web/db", "DB_ENV_A=1"]  # HOME and PATH are not passed on
    # two consecutive ports are no range; tcp sorts before udp on the same number
    assert link_env("/web/db", "ip", ["53/udp", "53/tcp"], [])[0] == "DB_PORT=tcp://ip:53"
    assert not any("_START" in e for e in link_env("/web/db", "ip", ["80/tcp", "81/tcp"], []))
