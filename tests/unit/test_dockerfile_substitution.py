"""Docker's variable substitution: the forms, quoting, escapes, and where it applies."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from pallet.build.substitution import EXPANDED, expand, expand_words
from pallet.errors import InvalidArgument

ENV = {"A": "apple", "E": "", "P": "/usr/bin"}


@pytest.mark.parametrize("word, want", [
    ("$A", "apple"), ("${A}", "apple"), ("x${A}y", "xappley"), ("$A-b", "apple-b"),
    ("$NOPE", ""), ("${NOPE:-dflt}", "dflt"), ("${E:-dflt}", "dflt"), ("${E-dflt}", ""),
    ("${NOPE-dflt}", "dflt"), ("${A:+set}", "set"), ("${E:+set}", ""), ("${E+set}", "set"),
    ("${NOPE+set}", ""), ("${NOPE:-${A}}", "apple"), ("$", "$"), ("a$", "a$"), ("$/x", "$/x"),
    ("'$A'", "$A"), ('"$A"', "apple"), ('"a b"', "a b"), ("\\$A", "$A"), ('"\\$A"', "$A"),
    ('"\\n"', "\\n"), ("${P}/x", "/usr/bin/x"), ("a\\ b", "a b"),
])
def test_expand_follows_docker(word, want):
    assert expand(word, ENV) == want


def test_backtick_escape_directive():
    assert expand("`$A", ENV, escape="`") == "$A"
    assert expand("C:\\dir", ENV, escape="`") == "C:\\dir"


def test_required_variable_error_names_it():
    with pytest.raises(InvalidArgument, match="NOPE: must be set"):
        expand("${NOPE:?must be set}", ENV)
    with pytest.raises(InvalidArgument, match="E: is not allowed to be unset"):
        expand("${E:?}", ENV)
    assert expand("${A:?x}", ENV) == "apple"


@pytest.mark.parametrize("word", ["${A", "'open", '"open', "${}", "${A%x}"])
def test_malformed_substitutions_are_errors(word):
    with pytest.raises(InvalidArgument):
        expand(word, ENV)


def test_expand_words_splits_on_unquoted_space_only():
    assert expand_words('80 "a b" $A', ENV) == ["80", "a b", "apple"]
    assert expand_words("  8080/tcp   9090  ", ENV) == ["8080/tcp", "9090"]


def test_run_cmd_and_entrypoint_are_left_to_the_shell():
    assert {"RUN", "CMD", "ENTRYPOINT", "SHELL", "HEALTHCHECK"}.isdisjoint(EXPANDED)
    assert {"ENV", "LABEL", "COPY", "ADD", "WORKDIR", "USER", "EXPOSE", "VOLUME", "FROM",
            "STOPSIGNAL", "ARG"} <= EXPANDED


@given(st.text(alphabet=st.characters(blacklist_characters="$'\"\\"), max_size=40))
def test_text_without_specials_is_unchanged(text):
    assert expand(text, ENV) == text


@given(st.text(alphabet="abc XYZ_09", max_size=20))
def test_single_quotes_are_literal(text):
    assert expand(f"'{text}$A'", ENV) == text + "$A"
