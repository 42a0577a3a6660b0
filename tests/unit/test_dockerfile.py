"""Dockerfile parsing as Docker reads it: stages, meta ARGs, directives, heredocs, errors."""
from __future__ import annotations

import pytest

from pallet.build.dockerfile import parse, parse_line
from pallet.errors import InvalidArgument


def test_meta_args_before_first_from_and_named_stages():
    df = parse("ARG BASE=busybox\nFROM ${BASE} AS Build\nRUN true\nFROM build\nCOPY --from=build /a /b\n")
    assert [a.original for a in df.meta_args] == ["ARG BASE=busybox"]
    assert [(s.index, s.name, s.base) for s in df.stages] == [(0, "build", "${BASE}"), (1, None, "build")]
    assert df.stages[1].instructions[0].flag("from") == "build"


def test_line_continuations_and_comments_are_joined():
    df = parse("FROM busybox\n# a comment\nRUN echo a \\\n  && echo b\n")
    run = df.stages[0].instructions[0]
    assert run.cmd == "RUN" and "echo a" in run.args[0] and "echo b" in run.args[0]
    assert run.line == 3


def test_escape_directive_changes_the_continuation_character():
    df = parse("# escape=`\nFROM busybox\nRUN echo a `\n  b\n")
    assert df.escape == "`"
    assert df.stages[0].instructions[0].args[0].split() == ["echo", "a", "b"]


def test_syntax_directive_is_accepted():
    assert parse("# syntax=docker/dockerfile:1\nFROM busybox\n").stages[0].base == "busybox"


def test_json_and_shell_forms_are_told_apart():
    ins = parse('FROM busybox\nCMD ["echo", "hi"]\nCMD echo hi\n').stages[0].instructions
    assert (ins[0].json, ins[0].args) == (True, ("echo", "hi"))
    assert (ins[1].json, ins[1].args) == (False, ("echo hi",))


def test_heredocs_keep_content_and_quoted_delimiters_disable_expansion():
    ins = parse('FROM busybox\nRUN <<EOF\necho hi\nEOF\nCOPY <<"EOT" /f\n$X\nEOT\n').stages[0].instructions
    assert ins[0].heredocs[0].content == "echo hi\n" and ins[0].heredocs[0].expand
    assert ins[1].heredocs[0].content == "$X\n" and not ins[1].heredocs[0].expand


def test_onbuild_carries_its_trigger():
    ins = parse("FROM busybox\nONBUILD RUN echo child\n").stages[0].instructions[0]
    assert ins.trigger.cmd == "RUN" and ins.trigger.original == "RUN echo child"


def test_parse_line_reads_one_trigger():
    assert parse_line("COPY a /b").cmd == "COPY"


@pytest.mark.parametrize("text, message", [
    ("FROM busybox\nFOO bar\n", "Dockerfile:2: dockerfile parse error on line 2: unknown instruction: FOO"),
    ("RUN true\n", "no build stage in current context"),
    ("# only a comment\n", "file with no instructions"),
    ("FROM busybox\nCOPY onlyone\n", "COPY requires at least two arguments, but only one was provided"),
    ("FROM busybox\nENV\n", "ENV requires at least one argument"),
    ("FROM busybox\nUSER\n", "USER requires exactly one argument"),
    ("FROM busybox\nSHELL /bin/bash -c\n", "SHELL requires the arguments to be in JSON form"),
    ("FROM a b\n", "FROM requires either one or three arguments"),
    ("FROM a AS x\nFROM b AS x\n", "duplicate stage name"),
    ("FROM busybox\nONBUILD ONBUILD RUN x\n", "isn't allowed as an ONBUILD trigger"),
])
def test_bad_dockerfiles_name_file_line_and_problem(text, message):
    with pytest.raises(InvalidArgument) as exc:
        parse(text)
    assert message in str(exc.value)
    assert str(exc.value).startswith("Dockerfile")


def test_unknown_instruction_error_quotes_the_instruction():
    with pytest.raises(InvalidArgument, match=r"\(FOO bar\)$"):
        parse("FROM busybox\nFOO bar\n", "Dockerfile")


def test_the_cli_module_does_not_load_the_build_engine():
    import subprocess
    import sys
    code = ("import sys, pallet.cli.build, pallet.cli.main; "
            "heavy = [m for m in ('dockerfile', 'pallet.build.executor', 'pallet.build.context', "
            "'tarfile', 'urllib.request') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
