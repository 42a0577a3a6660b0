"""Docker's detach keys: the --detach-keys grammar (moby/term ToBytes) and the escape
proxy's rules (moby/term escapeProxy), as `run -it`, `attach` and `exec -it` apply them."""
import pytest

from pallet.errors import InvalidArgument
from pallet.opts.detachkeys import DEFAULT_DETACH_KEYS, parse_detach_keys
from pallet.runtime.escape import EscapeProxy


@pytest.mark.parametrize("text, keys", [
    (None, b"\x10\x11"), ("", b"\x10\x11"),
    ("ctrl-p,ctrl-q", b"\x10\x11"),
    ("ctrl-a", b"\x01"), ("ctrl-z", b"\x1a"), ("ctrl-@", b"\x00"),
    ("ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", b"\x1b\x1c\x1d\x1e\x1f"),
    ("a,b,c", b"abc"), ("DEL", b"\x7f"), ("ctrl-x,X", b"\x18X"),
])
def test_detach_keys_grammar(text, keys):
    assert parse_detach_keys(text) == keys


@pytest.mark.parametrize("text", ["ctrl-A", "ctrl-", "ctrl-ab", "foo", "a,,b", "a,", "é", "alt-x", "ctrl-1"])
def test_unknown_detach_keys_are_the_daemons_error(text):
    with pytest.raises(InvalidArgument, match=rf"^Invalid detach keys \({text}\) provided$"):
        parse_detach_keys(text)


def test_exec_calls_them_escape_keys():
    with pytest.raises(InvalidArgument, match=r"^Invalid escape keys \(foo\) provided$"):
        parse_detach_keys("foo", word="escape")


def _typed(proxy, *reads):
    """What each read passes on, and whether the last one detached."""
    passed, detached = [], False
    for data in reads:
        out, detached = proxy.feed(data)
        passed.append(out)
    return passed, detached


def test_default_sequence_typed_key_by_key_detaches_and_passes_nothing():
    assert _typed(EscapeProxy(DEFAULT_DETACH_KEYS), b"\x10", b"\x11") == ([b"", b""], True)


def test_sequence_in_one_read_detaches_after_what_came_before():
    assert _typed(EscapeProxy(b"\x10\x11"), b"ls\x10\x11rest") == ([b"ls"], True)


def test_escape_prefix_then_another_key_passes_both():
    assert _typed(EscapeProxy(b"\x10\x11"), b"\x10", b"a") == ([b"", b"\x10a"], False)


def test_broken_prefix_byte_does_not_start_a_new_match():
    # moby: the byte that breaks a partial match is passed on, not matched again
    assert _typed(EscapeProxy(b"\x10\x11"), b"\x10", b"\x10", b"\x11") == ([b"", b"\x10\x10", b"\x11"], False)


def test_longer_custom_sequence_across_reads():
    assert _typed(EscapeProxy(b"abcd"), b"ab", b"cd") == ([b"", b""], True)
    assert _typed(EscapeProxy(b"abcd"), b"ab", b"cx") == ([b"", b"abcx"], False)


def test_once_detached_nothing_more_passes():
    proxy = EscapeProxy(b"\x01")
    assert proxy.feed(b"\x01") == (b"", True)
    assert proxy.feed(b"more") == (b"", True)


def test_no_keys_passes_everything():
    assert EscapeProxy(b"").feed(b"\x10\x11") == (b"\x10\x11", False)
