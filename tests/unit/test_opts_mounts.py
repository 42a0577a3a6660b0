"""-v/--volume, --mount and --tmpfs; CLI-side messages checked against the docker CLI,
daemon-side ones against moby's volume/mounts linux parser."""
import pytest

from pallet.errors import InvalidArgument, UsageError
from pallet.opts.mounts import (MountSpec, clean_path, parse_mount, parse_tmpfs, parse_volume,
                                validate_volume_name)


@pytest.mark.parametrize("spec, expected", [
    ("/ctr", dict(type="volume", source="", target="/ctr")),
    ("/ctr/", dict(type="volume", source="", target="/ctr")),
    ("data:/var/lib/data", dict(type="volume", source="data", target="/var/lib/data")),
    ("data:/d:ro,nocopy", dict(type="volume", source="data", read_only=True, no_copy=True,
                               mode="ro,nocopy")),
    ("/host:/ctr", dict(type="bind", source="/host", target="/ctr", propagation="rprivate")),
    ("/host/../h//x/:/ctr", dict(type="bind", source="/h/x")),
    ("/h:/c:ro", dict(type="bind", read_only=True, mode="ro")),
    ("/h:/c:rw", dict(type="bind", read_only=False)),
    ("/h:/c:ro,Z,rshared", dict(read_only=True, selinux_label="Z", propagation="rshared")),
    ("/h:/c:z,cached", dict(selinux_label="z", consistency="cached")),
])
def test_volume_flag(spec, expected):
    mount = parse_volume(spec)
    for name, value in expected.items():
        assert getattr(mount, name) == value, name


def test_anonymous_volume_is_a_volume_without_source():
    assert parse_volume("/data").anonymous
    assert not parse_volume("named:/data").anonymous


def test_cli_makes_dot_relative_bind_sources_absolute():
    assert parse_volume("./src:/app", cwd="/home/u").source == "/home/u/src"
    assert parse_volume(".:/app", cwd="/home/u").source == "/home/u"
    assert parse_volume("../x:/app:ro", cwd="/home/u").source == "/home/x"


@pytest.mark.parametrize("spec, message", [
    ("", "invalid empty volume spec"),
    (":/x", "invalid spec: :/x: empty section between colons"),
    ("/a:/b::", "invalid spec: /a:/b::: empty section between colons"),
    ("/a:/b:ro:x", "invalid spec: /a:/b:ro:x: too many colons"),
    ("/a:/b:ro:", "invalid spec: /a:/b:ro:: too many colons"),
])
def test_volume_flag_syntax_errors_are_cli_errors(spec, message):
    with pytest.raises(UsageError) as info:
        parse_volume(spec)
    assert str(info.value) == message


@pytest.mark.parametrize("spec, message", [
    ("/a:relative", "invalid volume specification: '/a:relative': invalid mount config for type "
                    "\"bind\": invalid mount path: 'relative' mount path must be absolute"),
    ("/a:/", "invalid volume specification: '/a:/': invalid mount config for type \"bind\": "
             "invalid specification: destination can't be '/'"),
    ("/a:/x/..", "invalid volume specification: '/a:/x/..': invalid mount config for type "
                 "\"bind\": invalid specification: destination can't be '/'"),
    ("relative", "invalid volume specification: 'relative': invalid mount config for type "
                 "\"volume\": invalid mount path: 'relative' mount path must be absolute"),
    ("/foo:rw", "invalid volume specification: '/foo:rw'"),
    ("/a:/b:bogus", "invalid mode: bogus"),
    ("/a:/b:ro,rw", "invalid mode: ro,rw"),
    ("/a:/b:z,Z", "invalid mode: z,Z"),
    ("vol:/x:shared", "invalid volume specification: 'vol:/x:shared': invalid mount config for "
                      "type \"volume\": field BindOptions must not be specified"),
    ("/h:/c:nocopy", "invalid volume specification: '/h:/c:nocopy': invalid mount config for "
                     "type \"bind\": field VolumeOptions must not be specified"),
    ("foo/bar:/x", 'create foo/bar: "foo/bar" includes invalid characters for a local volume '
                   'name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass '
                   "a host directory, use absolute path"),
])
def test_volume_flag_validation_errors_are_daemon_errors(spec, message):
    with pytest.raises(InvalidArgument) as info:
        parse_volume(spec)
    assert str(info.value) == message
    assert not isinstance(info.value, UsageError)


def test_relative_bind_source_without_cwd_is_read_as_a_bad_volume_name():
    with pytest.raises(InvalidArgument, match="includes invalid characters"):
        parse_volume("./src:/app")


@pytest.mark.parametrize("name, ok", [
    ("data", True), ("my-vol_1.2", True), ("ab", True), ("a", False), ("-x", False),
    ("a/b", False), ("a b", False), ("~", False),
])
def test_local_volume_names(name, ok):
    if ok:
        assert validate_volume_name(name) == name
    else:
        with pytest.raises(InvalidArgument):
            validate_volume_name(name)


@pytest.mark.parametrize("value, expected", [
    ("type=bind,source=/a,target=/b", dict(type="bind", source="/a", target="/b",
                                           propagation="rprivate", read_only=False)),
    ("type=bind,src=/a,dst=/b,readonly,bind-propagation=shared",
     dict(read_only=True, propagation="shared")),
    ("type=bind,src=/a,destination=/b,ro=true,bind-nonrecursive", dict(read_only=True,
                                                                       bind_nonrecursive=True)),
    ("target=/data", dict(type="volume", source="", target="/data")),
    ("type=volume,src=vol,dst=/d,volume-nocopy", dict(source="vol", no_copy=True)),
    ("type=volume,src=vol,dst=/d,volume-nocopy=false,volume-driver=local,"
     "volume-label=a=b,volume-opt=o=size=1", dict(no_copy=False, volume_driver="local",
                                                  volume_labels={"a": "b"},
                                                  volume_options={"o": "size=1"})),
    ("TYPE=TMPFS,dst=/t,tmpfs-size=64m,tmpfs-mode=1777", dict(type="tmpfs", tmpfs_size=64 << 20,
                                                              tmpfs_mode=0o1777)),
    ('type=bind,"src=/a,b",dst=/c', dict(source="/a,b")),
])
def test_mount_flag(value, expected):
    mount = parse_mount(value)
    for name, want in expected.items():
        assert getattr(mount, name) == want, name


def test_cli_makes_dot_relative_mount_sources_absolute():
    assert parse_mount("type=bind,src=./d,dst=/d", cwd="/w").source == "/w/d"


@pytest.mark.parametrize("value, message", [
    ("foo=bar", "unexpected key 'foo' in 'foo=bar'"),
    ("bogus", "invalid field 'bogus' must be a key=value pair"),
    ("type=bind", "target is required"),
    ("type=,target=/x", "type is required"),
    ("type=bind,target=/x,volume-nocopy", "cannot mix 'volume-*' options with mount type 'bind'"),
    ("type=volume,target=/x,bind-propagation=shared",
     "cannot mix 'bind-*' options with mount type 'volume'"),
    ("type=bind,target=/x,tmpfs-size=1m", "cannot mix 'tmpfs-*' options with mount type 'bind'"),
    ("type=tmpfs,target=/x,tmpfs-size=1x", "invalid value for tmpfs-size: 1x"),
    ("type=tmpfs,target=/x,tmpfs-mode=9", "invalid value for tmpfs-mode: 9"),
    ("src=a,target=/x,ro=maybe", "invalid value for ro: maybe"),
    ("target=/x,volume-nocopy=x", "invalid value for volume-nocopy: x"),
])
def test_mount_flag_syntax_errors_are_cli_errors(value, message):
    with pytest.raises(UsageError) as info:
        parse_mount(value)
    assert str(info.value) == message


@pytest.mark.parametrize("value, message", [
    ("type=bind,target=/x", 'invalid mount config for type "bind": field Source must not be empty'),
    ("type=bind,src=rel,target=/x",
     "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"),
    ("type=bind,src=/a,target=/x,bind-propagation=sideways",
     'invalid mount config for type "bind": invalid propagation mode: sideways'),
    ("type=bind,src=/a,target=/", "invalid mount config for type \"bind\": invalid "
                                  "specification: destination can't be '/'"),
    ("type=volume,target=/x,ro", 'invalid mount config for type "volume": must not set '
                                 "ReadOnly mode when using anonymous volumes"),
    ("type=tmpfs,src=a,target=/x", 'invalid mount config for type "tmpfs": field Source must '
                                   "not be specified"),
    ("type=weird,target=/x", 'invalid mount config for type "weird": mount type unknown'),
])
def test_mount_flag_validation_errors_are_daemon_errors(value, message):
    with pytest.raises(InvalidArgument) as info:
        parse_mount(value)
    assert str(info.value) == message


def test_tmpfs_flag_keeps_options_for_the_mount_call():
    mount = parse_tmpfs("/run/:rw,noexec,size=64m,mode=1777")
    assert mount == MountSpec("tmpfs", "/run", tmpfs_options=("rw", "noexec", "size=64m",
                                                             "mode=1777"),
                              tmpfs_size=64 << 20, tmpfs_mode=0o1777)
    assert parse_tmpfs("/tmp").tmpfs_options == ()
    assert parse_tmpfs("/ro:ro").read_only


@pytest.mark.parametrize("value, message", [
    ("relative", "invalid mount path: 'relative' mount path must be absolute"),
    ("/", "invalid specification: destination can't be '/'"),
    ("", "field Target must not be empty"),
])
def test_tmpfs_flag_rejects_bad_targets(value, message):
    with pytest.raises(InvalidArgument, match=f"^{message}$"):
        parse_tmpfs(value)


@pytest.mark.parametrize("path, cleaned", [
    ("/a/b/", "/a/b"), ("//a", "/a"), ("/a/./b/../c", "/a/c"), ("/", "/"), ("///", "/"),
])
def test_paths_are_cleaned_like_gos_path_clean(path, cleaned):
    assert clean_path(path) == cleaned
