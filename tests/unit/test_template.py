"""Docker's --format language behaves like Go's text/template plus docker's functions.

Expected strings were derived from Go's documented rules and checked against
the docker 28 CLI (``docker context ls --format`` / ``docker version --format``).
"""
from __future__ import annotations

import dataclasses
import time

import pytest

from pallet.errors import InvalidArgument
from pallet.format.template import Template, compile_template


def render(text: str, data=None) -> str:
    return compile_template(text).render(data)


def error_of(text: str, data=None) -> str:
    with pytest.raises(InvalidArgument) as info:
        render(text, data)
    return str(info.value)


IMAGE = {
    "Id": "sha256:abc",
    "RepoTags": ["busybox:latest"],
    "Config": {"Labels": {"com.example": "yes", "maintainer": "<me&you>"},
               "Env": ["PATH=/bin"], "Cmd": ["sh", "-c", "echo hi"]},
    "RootFS": {"Type": "layers", "Layers": ["sha256:1", "sha256:2"]},
    "Size": 4096,
}
CONTAINER = {
    "Name": "/web",
    "Args": ["-c", "echo hi"],
    "State": {"Running": True, "ExitCode": 0, "Health": None},
    "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.2"},
                                     "backend": {"IPAddress": "10.0.0.5"}}},
    "Mounts": [],
}


@dataclasses.dataclass
class PsRow:
    ID: str
    Image: str
    Labels: dict

    def Label(self, name: str) -> str:
        return self.Labels.get(name, "")


# -- fields and data model -------------------------------------------------------

def test_field_reads_nested_dict_keys():
    assert render("{{.Config.Labels.maintainer}}", IMAGE) == "<me&you>"


def test_missing_map_key_renders_no_value():
    assert render("{{.Config.Labels.nope}}", IMAGE) == "<no value>"


def test_null_map_reads_like_a_missing_key():
    assert render("{{.State.Health.Status}}", CONTAINER) == "<no value>"


def test_null_value_prints_nil():
    assert render("{{.State.Health}}", CONTAINER) == "<nil>"


def test_dot_and_dollar_are_the_data():
    assert render("{{range .RepoTags}}{{.}} {{$.Id}}{{end}}", IMAGE) == "busybox:latest sha256:abc"


def test_object_fields_and_method_with_argument():
    row = PsRow("0123456789ab", "busybox", {"com.example": "v1"})
    assert render('{{.ID}} {{.Label "com.example"}}', row) == "0123456789ab v1"


def test_method_receives_piped_value_as_last_argument():
    row = PsRow("id", "img", {"k": "v"})
    assert render('{{"k" | .Label}}', row) == "v"


def test_missing_field_on_object_is_an_error():
    message = error_of("{{.Foo}}", PsRow("id", "img", {}))
    assert message == ('template: :1:2: executing "" at <.Foo>: '
                       "can't evaluate field Foo in type PsRow")


def test_field_of_a_string_is_an_error_located_at_the_chained_field():
    assert error_of("{{.Name.Foo}}", {"Name": "default"}) == (
        'template: :1:7: executing "" at <.Name.Foo>: can\'t evaluate field Foo in type string')


def test_method_with_wrong_argument_count():
    assert error_of("{{.Label}}", PsRow("id", "img", {})).endswith(
        "wrong number of args for Label: want 1 got 0")


def test_map_field_with_arguments_is_an_error():
    assert error_of("{{.Name 1}}", {"Name": "x"}).endswith(
        "Name is not a method but has arguments")


def test_struct_prints_like_go():
    assert render("{{.}}", PsRow("id", "img", {"a": "b"})) == "{id img map[a:b]}"


def test_maps_and_lists_print_like_go():
    assert render("{{.Config.Labels}} {{.Config.Cmd}}", IMAGE) == (
        "map[com.example:yes maintainer:<me&you>] [sh -c echo hi]")


# -- control structures ----------------------------------------------------------------

def test_len_of_rootfs_layers():
    assert render("{{len .RootFS.Layers}}", IMAGE) == "2"


def test_range_over_networks_visits_map_in_sorted_key_order():
    assert render("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", CONTAINER) == (
        "10.0.0.5 172.17.0.2 ")


def test_range_with_key_and_value_variables():
    text = "{{range $name, $net := .NetworkSettings.Networks}}{{$name}}={{$net.IPAddress}};{{end}}"
    assert render(text, CONTAINER) == "backend=10.0.0.5;bridge=172.17.0.2;"


def test_range_with_index_and_element():
    assert render("{{range $i, $a := .Args}}{{$i}}:{{$a}} {{end}}", CONTAINER) == "0:-c 1:echo hi "


def test_range_else_runs_for_empty_list():
    assert render("{{range .Mounts}}m{{else}}no mounts{{end}}", CONTAINER) == "no mounts"


def test_range_break_and_continue():
    text = "{{range $i, $v := .}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 3}}{{break}}{{end}}{{$v}}{{end}}"
    assert render(text, ["a", "b", "c", "d", "e"]) == "ac"


def test_range_over_a_string_is_an_error():
    assert error_of("{{range .Name}}{{end}}", {"Name": "default"}) == (
        'template: :1:8: executing "" at <.Name>: range can\'t iterate over default')


def test_if_else_if_else_chain():
    text = '{{if eq .S "a"}}A{{else if eq .S "b"}}B{{else}}other{{end}}'
    assert [render(text, {"S": s}) for s in "abc"] == ["A", "B", "other"]


def test_go_truth_rules():
    falsy = ["", 0, 0.0, [], {}, None, False]
    assert [render("{{if .}}T{{else}}F{{end}}", v) for v in falsy] == ["F"] * 7
    assert render("{{if .}}T{{end}}", PsRow("", "", {})) == "T"  # structs are always true
    assert render("{{if .X}}T{{else}}F{{end}}", {}) == "F"


def test_with_rebinds_dot_and_skips_empty():
    assert render("{{with .Config.Env}}{{index . 0}}{{end}}", IMAGE) == "PATH=/bin"
    assert render("{{with .Mounts}}x{{else}}none{{end}}", CONTAINER) == "none"


def test_variables_declare_and_assign():
    assert render('{{$x := .Name}}{{$x}} {{$x = "b"}}{{$x}}', {"Name": "a"}) == "a b"


def test_variable_declared_in_block_does_not_leak():
    assert render('{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}') == "21"


def test_comments_and_trim_markers():
    assert render("a  {{- /* note */ -}}  b {{- 1 -}} \n c") == "ab1c"


def test_minus_number_is_not_a_trim_marker():
    assert render("x {{-3}}") == "x -3"


def test_literals():
    assert render("{{1000000.0}} {{3.0}} {{0x10}} {{'a'}} {{`raw\\n`}} {{\"q\\t\"}} {{true}}") == (
        "1e+06 3 16 97 raw\\n q\t true")


# -- pipelines and functions ---------------------------------------------------------------

def test_repository_and_tag_side_by_side():
    assert render("{{.Repository}}:{{.Tag}}", {"Repository": "busybox", "Tag": "1.36"}) == "busybox:1.36"


def test_json_of_config_is_compact_in_key_order_without_html_escaping():
    # docker/cli's json uses SetEscapeHTML(false), so <, > and & stay as they are.
    assert render("{{json .Config}}", IMAGE) == (
        '{"Labels":{"com.example":"yes","maintainer":"<me&you>"},'
        '"Env":["PATH=/bin"],"Cmd":["sh","-c","echo hi"]}')


def test_json_of_null_and_missing():
    assert render("{{json .State.Health}} {{json .Nope}}", CONTAINER) == "null null"


def test_json_of_dataclass_row():
    assert render("{{json .}}", PsRow("id", "img", {})) == '{"ID":"id","Image":"img","Labels":{}}'


def test_join_args_with_space():
    assert render('{{join .Args " "}}', CONTAINER) == "-c echo hi"


def test_split_title_lower_upper():
    assert render('{{split "a:b:c" ":"}} {{title "hello-world foo_bar"}} {{lower "AbC"}} {{upper "x"}}') == (
        "[a b c] Hello-World Foo_bar abc X")


def test_pad_and_truncate():
    assert render('[{{pad "ab" 1 2}}][{{pad "" 1 2}}][{{truncate "abcdef" 3}}][{{truncate "ab" 3}}]') == (
        "[ ab  ][][abc][ab]")


def test_pipeline_passes_value_as_last_argument():
    assert render('{{.Name | printf "%s-%s" "x"}}', {"Name": "default"}) == "x-default"


def test_parenthesised_subexpression_and_chained_field():
    assert render('{{(index .Args 1) | len}} {{(index .NetworkSettings.Networks "bridge").IPAddress}}',
                  CONTAINER) == "7 172.17.0.2"


def test_printf_verbs_match_go():
    text = ('{{printf "%v|%6.2f|%e|%g|%x|%X|%o|%b|%c|%U|%+d|%05d|%-5d|%q|%5s|%-4s|%t|%T" '
            '1.5 3.14159 1234.5678 0.000012 255 "hi" 8 5 65 65 3 42 42 "a\\"b" "ab" "c" true 1}}')
    assert render(text) == '1.5|  3.14|1.234568e+03|1.2e-05|ff|6869|10|101|A|U+0041|+3|00042|42   |"a\\"b"|   ab|c   |true|int'


def test_printf_reports_bad_and_missing_arguments_inline():
    assert render('{{printf "%d %s" "x" 3}} {{printf "%s" 1 2}} {{printf "%s"}}') == (
        "%!d(string=x) %!s(int=3) %!s(int=1)%!(EXTRA int=2) %!s(MISSING)")


def test_print_and_println_spacing():
    assert render('{{print 1 2 "a" "b" 3 true}}|{{println 1 "a"}}') == "1 2ab3 true|1 a\n"


def test_comparisons_and_logic():
    assert render('{{eq 1 2 3 1}} {{ne "a" "b"}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}') == (
        "true true true true true false")
    assert render('{{and 1 0 2}} {{or 0 "" "x"}} {{not ""}} {{and 1 2}}') == "0 x true 2"


def test_and_or_short_circuit():
    assert render('{{if and .Config (index .Config.Env 0)}}ok{{end}}', IMAGE) == "ok"
    assert render("{{or .Missing.Deep \"fallback\"}}", {}) == "fallback"


def test_index_and_slice():
    assert render('{{index .Config.Labels "com.example"}}|{{index .Config.Labels "absent"}}|'
                  '{{index .Config.Cmd 2}}|{{slice .Id 0 6}}', IMAGE) == "yes||echo hi|sha256"


def test_index_out_of_range_is_an_error():
    assert error_of("{{index .Args 5}}", CONTAINER).endswith(
        "error calling index: index out of range: 5")


def test_comparing_incompatible_types_is_an_error():
    assert error_of('{{eq 1 "1"}}').endswith("error calling eq: incompatible types for comparison")


def test_function_error_names_the_command():
    assert error_of("{{len 3}}") == (
        'template: :1:2: executing "" at <len 3>: error calling len: len of type int')


def test_wrong_argument_type_for_docker_function():
    assert error_of("{{upper 3}}").endswith("wrong type for value; expected string; got int")


# -- parse errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("{{ }", 'template: :1: unexpected "}" in command'),
    ("{{.Foo }", 'template: :1: unexpected "}" in operand'),
    ("{{if}}", "template: :1: missing value for if"),
    ("{{$x}}", 'template: :1: undefined variable "$x"'),
    ("{{nosuch 1}}", 'template: :1: function "nosuch" not defined'),
    ("{{.Foo", "template: :1: unclosed action"),
    ("a\n{{if 1}}\n{{end}}{{end}}", "template: :3: unexpected {{end}}"),
    ("{{if 1}}", "template: :1: unexpected EOF"),
    ('{{"abc}}', "template: :1: unterminated quoted string"),
    ("{{.A | 3}}", "template: :1: non executable command in pipeline stage 2"),
    ("{{(1}}", "template: :1: unclosed left paren"),
    ("{{.Foo-bar}}", "template: :1: bad character U+002D '-'"),
    ("{{break}}", "template: :1: {{break}} outside {{range}}"),
    ("{{/* x */ 1}}", "template: :1: comment ends before closing delimiter"),
])
def test_parse_errors_are_worded_like_go(text, message):
    with pytest.raises(InvalidArgument) as info:
        compile_template(text)
    assert str(info.value) == message


def test_execution_error_reports_line_and_column():
    assert error_of("x\n  {{.A.B}}", {"A": "s"}).startswith('template: :2:6: executing "" at <.A.B>:')


# -- compiled once, fast ----------------------------------------------------------------------

def test_compile_template_caches_by_text():
    assert compile_template("{{.X}}") is compile_template("{{.X}}")
    assert isinstance(compile_template("{{.X}}"), Template)


def test_rendering_a_thousand_rows_is_fast():
    template = compile_template("{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Status}}\t{{.Names}}")
    rows = [{"ID": f"{i:012x}", "Image": "busybox", "Command": '"sh"',
             "Status": "Up 2 minutes", "Names": f"c{i}"} for i in range(1000)]
    start = time.perf_counter()
    for row in rows:
        template.render(row)
    assert time.perf_counter() - start < 0.05


@pytest.mark.parametrize("ns, text", [(0, "0s"), (1, "1ns"), (1500, "1.5µs"), (1_500_000, "1.5ms"),
                                      (1_000_000_000, "1s"), (90_000_000_000, "1m30s"),
                                      (3_600_000_000_000, "1h0m0s"), (3_723_500_000_000, "1h2m3.5s"),
                                      (-2_000_000_000, "-2s")])
def test_typed_durations_print_as_go_and_stay_numbers_in_json(ns, text):
    from pallet.format.values import GoDuration
    doc = {"Healthcheck": {"Interval": GoDuration(ns)}}
    assert compile_template("{{.Healthcheck.Interval}}").render(doc) == text
    assert compile_template("{{json .Healthcheck}}").render(doc) == f'{{"Interval":{ns}}}'
