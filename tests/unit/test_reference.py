"""Docker's reference grammar; expected texts were checked against `docker pull`/`docker tag`."""
import pytest
from hypothesis import given, strategies as st

from pallet.errors import InvalidArgument, InvalidReference, PalletError
from pallet import reference, reference_match
from pallet.reference import Reference, looks_like_id_prefix, parse, parse_repository_tag

HEX = "0123456789abcdef" * 4
DIGEST = "sha256:" + HEX


@pytest.mark.parametrize("text, domain, path, tag, digest", [
    ("busybox", "docker.io", "library/busybox", None, None),
    ("busybox:1.36", "docker.io", "library/busybox", "1.36", None),
    ("user/app", "docker.io", "user/app", None, None),
    ("docker.io/busybox", "docker.io", "library/busybox", None, None),
    ("index.docker.io/busybox", "docker.io", "library/busybox", None, None),
    ("index.docker.io/user/app", "docker.io", "user/app", None, None),
    ("localhost/app", "localhost", "app", None, None),
    ("localhost:5000/app:v1", "localhost:5000", "app", "v1", None),
    ("example.com/a/b/c", "example.com", "a/b/c", None, None),
    ("[::1]:5000/app", "[::1]:5000", "app", None, None),
    ("Registry/app", "Registry", "app", None, None),  # uppercase first part is a host
    ("foo__bar", "docker.io", "library/foo__bar", None, None),
    ("foo--bar.baz_q", "docker.io", "library/foo--bar.baz_q", None, None),
    ("localhost", "docker.io", "library/localhost", None, None),
    ("foo.com:5000", "docker.io", "library/foo.com", "5000", None),
    (f"busybox@{DIGEST}", "docker.io", "library/busybox", None, DIGEST),
    (f"r.io:1/x:t@{DIGEST}", "r.io:1", "x", "t", DIGEST),
    (f"busybox@sha512:{HEX * 2}", "docker.io", "library/busybox", None, f"sha512:{HEX * 2}"),
    ("app:_tag", "docker.io", "library/app", "_tag", None),
    ("app:" + "a" * 128, "docker.io", "library/app", "a" * 128, None),
    (HEX[:12], "docker.io", "library/" + HEX[:12], None, None),
])
def test_parse_normalises_like_docker(text, domain, path, tag, digest):
    assert parse(text) == Reference(domain, path, tag, digest)


@pytest.mark.parametrize("text, message", [
    ("Foo", "invalid reference format: repository name (library/Foo) must be lowercase"),
    ("library/Foo", "invalid reference format: repository name (library/Foo) must be lowercase"),
    ("localhost:5000/Foo", "invalid reference format: repository name (Foo) must be lowercase"),
    ("foo:BAD!", "invalid reference format"),
    ("foo:", "invalid reference format"),
    ("foo:.tag", "invalid reference format"),
    ("app:" + "a" * 129, "invalid reference format"),
    ("foo___bar", "invalid reference format"),
    ("foo-", "invalid reference format"),
    ("/foo", "invalid reference format"),
    ("foo//bar", "invalid reference format"),
    ("a-.com/foo", "invalid reference format"),
    ("foo bar", "invalid reference format"),
    ("foo\n", "invalid reference format"),
    ("", "invalid reference format"),
    ("foo@sha256:abc", "invalid reference format"),
    ("a" * 248, "repository name must not be more than 255 characters"),
    ("example.com/" + "a" * 256, "repository name must not be more than 255 characters"),
    ("foo@md5:" + HEX[:32], "unsupported digest algorithm"),
    ("foo@sha256:" + HEX.upper(), "invalid checksum digest format"),
    ("foo@sha256:" + HEX + "00", "invalid checksum digest length"),
    (HEX, f"invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings"),
])
def test_parse_rejects_with_dockers_message(text, message):
    with pytest.raises(InvalidReference) as info:
        parse(text)
    assert str(info.value) == message


def test_invalid_reference_is_an_invalid_argument():
    assert issubclass(InvalidReference, InvalidArgument)


def test_name_length_limit_counts_the_path_only():
    assert parse("a" * 247).path == "library/" + "a" * 247
    assert parse("example.com/" + "a" * 255).domain == "example.com"


@pytest.mark.parametrize("text, familiar_name, familiar, full", [
    ("busybox", "busybox", "busybox", "docker.io/library/busybox"),
    ("busybox:latest", "busybox", "busybox:latest", "docker.io/library/busybox:latest"),
    ("user/app:1", "user/app", "user/app:1", "docker.io/user/app:1"),
    ("docker.io/library/sub/app", "library/sub/app", "library/sub/app",
     "docker.io/library/sub/app"),
    ("localhost:5000/app", "localhost:5000/app", "localhost:5000/app", "localhost:5000/app"),
    (f"app@{DIGEST}", "app", f"app@{DIGEST}", f"docker.io/library/app@{DIGEST}"),
])
def test_familiar_and_full_forms(text, familiar_name, familiar, full):
    ref = parse(text)
    assert ref.familiar_name == familiar_name
    assert ref.familiar() == familiar
    assert str(ref) == full
    assert ref.name == ref.repository == str(Reference(ref.domain, ref.path))


def test_tagged_adds_latest_only_to_bare_names():
    assert parse("busybox").tagged().tag == "latest"
    assert parse("busybox").tagged("edge").tag == "edge"
    assert parse("busybox:1").tagged().tag == "1"
    assert parse(f"busybox@{DIGEST}").tagged() == parse(f"busybox@{DIGEST}")


def test_with_tag_replaces_tag_and_drops_digest():
    ref = parse(f"app:1@{DIGEST}").with_tag("2")
    assert (ref.tag, ref.digest) == ("2", None)
    with pytest.raises(InvalidReference):
        parse("app").with_tag("-bad")


def test_tag_target_refuses_digest_references():
    assert parse_repository_tag("app:v1") == Reference("docker.io", "library/app", "v1")
    with pytest.raises(InvalidReference, match="^refusing to create a tag with a digest reference$"):
        parse_repository_tag(f"app@{DIGEST}")


@pytest.mark.parametrize("text, expected", [
    ("a", True), ("0f3", True), (HEX, True), (HEX + "0", False), ("", False),
    ("ABC", False), ("sha256:abc", False), ("busybox", False),
])
def test_image_id_prefixes_are_1_to_64_lowercase_hex(text, expected):
    assert looks_like_id_prefix(text) is expected


_component = st.from_regex(r"[a-z0-9]{1,5}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,5}){0,2}", fullmatch=True)
_domain = st.one_of(
    st.just("docker.io"),
    st.from_regex(r"[a-z0-9]{1,6}\.[a-z]{2,4}(?::[0-9]{1,5})?", fullmatch=True),
    st.from_regex(r"localhost(?::[0-9]{1,5})?", fullmatch=True),
)
_tag = st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True))
_digest = st.one_of(st.none(), st.from_regex(r"sha256:[a-f0-9]{64}", fullmatch=True))


@st.composite
def references(draw):
    domain = draw(_domain)
    path = "/".join(draw(st.lists(_component, min_size=1, max_size=3)))
    if domain == "docker.io" and "/" not in path:
        path = "library/" + path
    return Reference(domain, path, draw(_tag), draw(_digest))


@given(references())
def test_printing_then_parsing_gives_the_same_reference(ref):
    assert parse(str(ref)) == ref
    first = ref.familiar_name.split("/")[0]
    if ref.domain != "docker.io" or "/" not in ref.familiar_name or "." not in first:
        assert parse(ref.familiar()) == ref


def test_familiar_form_of_a_hub_repo_with_a_dotted_first_part_reads_as_a_registry():
    # Docker's FamiliarName has the same ambiguity: docker.io/a.b/c prints as a.b/c.
    ref = Reference("docker.io", "a.b/c")
    assert ref.familiar() == "a.b/c"
    assert parse(ref.familiar()).domain == "a.b"


def _by_grammar(text):
    """What the grammar's regular expressions alone make of `text` (the fast path off)."""
    saved, reference._parse_simple = reference._parse_simple, lambda _text: None
    try:
        return parse(text)
    except InvalidReference as exc:
        return f"error: {exc}"
    finally:
        reference._parse_simple = saved


@given(st.one_of(references().map(str), references().map(Reference.familiar),
                 st.text(alphabet="abAZ09._-_:/@[]", max_size=24)))
def test_everyday_names_parsed_without_regexes_agree_with_the_grammar(text):
    fast = reference._parse_simple(text)
    if fast is not None:
        assert fast == _by_grammar(text)


@pytest.mark.parametrize("text", ["busybox", "myapp:1.0", "user/app:v2", "localhost:5000/x/y:t",
                                  "x/a.b-c__d/e---f:_T.1", "Registry.io/app"])
def test_everyday_names_take_the_fast_path(text):
    fast = reference._parse_simple(text)
    assert fast is not None and fast == _by_grammar(text)


# Go's own table for path.Match (src/path/match_test.go): pattern, name, match, or an error
PATH_MATCH_CASES = [
    ("abc", "abc", True), ("*", "abc", True), ("*c", "abc", True), ("a*", "a", True),
    ("a*", "abc", True), ("a*", "ab/c", False), ("a*/b", "abc/b", True), ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True), ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False), ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True), ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True), ("ab[b-d]", "abc", True), ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False), ("ab[^b-d]", "abc", False), ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True), ("a\\*b", "ab", False), ("a?b", "a☺b", True), ("a[^a]b", "a☺b", True),
    ("a???b", "a☺b", False), ("a[^a][^a][^a]b", "a☺b", False), ("[a-ζ]*", "α", True),
    ("*[a-ζ]", "A", False), ("a?b", "a/b", False), ("a*b", "a/b", False), ("[\\]a]", "]", True),
    ("[\\-]", "-", True), ("[x\\-]", "x", True), ("[x\\-]", "-", True), ("[x\\-]", "z", False),
    ("[\\-x]", "x", True), ("[\\-x]", "-", True), ("[\\-x]", "a", False),
    ("[]a]", "]", None), ("[-]", "-", None), ("[x-]", "x", None), ("[x-]", "-", None),
    ("[x-]", "z", None), ("[-x]", "x", None), ("[-x]", "-", None), ("[-x]", "a", None),
    ("\\", "a", None), ("[a-b-c]", "a", None), ("[", "a", None), ("[^", "a", None),
    ("[^bc", "a", None), ("a[", "a", None), ("a[", "ab", None), ("a[", "x", None),
    ("a/b[", "x", None), ("*x", "xxx", True),
]


@pytest.mark.parametrize("pattern,name,match", PATH_MATCH_CASES)
def test_path_match_agrees_with_gos_own_table(pattern, name, match):
    if match is None:
        with pytest.raises(PalletError, match="^syntax error in pattern$"):
            reference_match.path_match(pattern, name)
    else:
        assert reference_match.path_match(pattern, name) is match


def test_path_match_keeps_the_first_fit_after_a_star_as_go_does():
    # a regex would let the first star take "ab" and the class the '/'; Go commits to "a"+"b"
    assert reference_match.path_match("*[^x]*c", "ab/c") is False
    assert reference_match.path_match("a[/]b", "a/b") is True  # a class may hold '/'


def test_reference_filter_stars_stay_inside_one_path_element():
    """moby's `images --filter reference=`: FamiliarMatch on busybox:latest, then busybox."""
    match = reference_match.familiar_match
    assert match("*", "docker.io/library/busybox:latest") and match("busybox", "docker.io/library/busybox:1")
    assert not match("*", "docker.io/team/app:2") and match("*/*", "docker.io/team/app:2")
    assert match("*/*/*", "localhost:5000/team/app:1") and not match("*/app*", "localhost:5000/team/app:1")
    assert not match("library/busybox", "docker.io/library/busybox:latest")  # familiar forms only
    assert match("busybox", "docker.io/library/busybox@sha256:" + "a" * 64)
