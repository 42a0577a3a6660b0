"""docker's list output: table/raw/json formats and Go tabwriter alignment.

Expected outputs follow Go's tabwriter rules with docker's parameters
(minwidth 10, padding 3, padchar ' ') and were checked against
``docker context ls --format`` from the docker 28 CLI.
"""
from __future__ import annotations

import dataclasses

import pytest

from pallet.errors import InvalidArgument
from pallet.format.table import align, format_rows

PS_TABLE = "table {{.ID}}\t{{.Image}}\t{{.Names}}"
PS_HEADERS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Names": "NAMES"}
PS_ROWS = [
    {"ID": "0123456789ab", "Image": "busybox", "Names": "web"},
    {"ID": "ba9876543210", "Image": "registry:2", "Names": "reg"},
]


@dataclasses.dataclass
class ImageRow:
    Repository: str
    Tag: str
    ID: str


# -- tabwriter -----------------------------------------------------------------------------

def test_columns_take_widest_cell_plus_three_with_minimum_ten():
    assert align("a\tbb\tc\nlonger-cell-x\tb\tc\n") == (
        "a               bb        c\n"
        "longer-cell-x   b         c\n")


def test_text_after_last_tab_is_not_padded():
    assert align("NAME\tERROR\nx\t\n") == "NAME      ERROR\nx         \n"


def test_trailing_tab_pads_last_column():
    assert align("a\tb\t\n") == "a         b         \n"


def test_column_block_ends_at_line_with_fewer_cells():
    # The b column stops at "a\t" so "cccc" starts a new column block.
    text = "aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccccccccccc\teee\n"
    assert align(text) == (
        "aaaa      bbb       d\n"
        "aa        b         dd\n"
        "a         \n"
        "aa        cccccccccccc   eee\n")


def test_line_without_tabs_flushes_column_widths():
    text = "NAME\nDESCRIPTION\tDOCKER ENDPOINT\ndefault\nCurrent DOCKER_HOST based configuration\tunix:///x\n"
    assert align(text) == (
        "NAME\n"
        "DESCRIPTION   DOCKER ENDPOINT\n"
        "default\n"
        "Current DOCKER_HOST based configuration   unix:///x\n")


def test_wide_characters_count_two_cells():
    assert align("日本\tx\nab\ty\n") == "日本      x\nab        y\n"


def test_final_line_without_newline_is_flushed():
    assert align("a\tb\nccc\td") == "a         b\nccc       d"


# -- format_rows -----------------------------------------------------------------------------

def test_table_format_prints_header_and_aligns():
    assert format_rows("table {{.ID}}\t{{.Image}}", PS_ROWS, PS_TABLE, headers=PS_HEADERS) == (
        "CONTAINER ID   IMAGE\n"
        "0123456789ab   busybox\n"
        "ba9876543210   registry:2\n")


def test_no_format_uses_the_default_table():
    assert format_rows(None, PS_ROWS, PS_TABLE, headers=PS_HEADERS) == (
        "CONTAINER ID   IMAGE        NAMES\n"
        "0123456789ab   busybox      web\n"
        "ba9876543210   registry:2   reg\n")


def test_bare_table_keyword_uses_the_default_table():
    assert format_rows("table", PS_ROWS, PS_TABLE, headers=PS_HEADERS) == (
        format_rows(None, PS_ROWS, PS_TABLE, headers=PS_HEADERS))


def test_table_with_no_rows_prints_only_the_header():
    assert format_rows(None, [], PS_TABLE, headers=PS_HEADERS) == "CONTAINER ID   IMAGE     NAMES\n"


def test_quiet_prints_only_ids():
    assert format_rows(None, PS_ROWS, PS_TABLE, quiet_field="ID") == "0123456789ab\nba9876543210\n"


def test_custom_format_wins_over_quiet():
    assert format_rows("{{.Names}}", PS_ROWS, PS_TABLE, quiet_field="ID") == "web\nreg\n"


def test_raw_format_has_no_header_and_no_alignment():
    assert format_rows(r"{{.ID}}\t{{.Names}}", PS_ROWS, PS_TABLE) == (
        "0123456789ab\tweb\nba9876543210\treg\n")


def test_repository_and_tag_on_object_rows():
    rows = [ImageRow("busybox", "latest", "sha256:1"), ImageRow("alpine", "3.19", "sha256:2")]
    assert format_rows("{{.Repository}}:{{.Tag}}", rows, "table {{.ID}}") == (
        "busybox:latest\nalpine:3.19\n")


def test_json_format_prints_one_object_per_row():
    assert format_rows("json", PS_ROWS[:1], PS_TABLE) == (
        '{"ID":"0123456789ab","Image":"busybox","Names":"web"}\n')


def test_header_keeps_column_names_through_docker_functions():
    text = r"table {{.ID}}\t{{json .Names}}\t{{upper .Image}}|"
    assert format_rows(text, PS_ROWS[:1], PS_TABLE, headers=PS_HEADERS) == (
        "CONTAINER ID   NAMES     IMAGE|\n"
        '0123456789ab   "web"     BUSYBOX|\n')


def test_header_for_unknown_column_says_no_value():
    rows = [{"Name": "default", "Current": True}]
    assert format_rows(r"table {{.Name}}\t{{.Current}}", rows, "", headers={"Name": "NAME"}) == (
        "NAME      <no value>\n"
        "default   true\n")


def test_without_header_map_columns_are_headed_by_field_name():
    assert format_rows(r"table {{.Names}}\t{{.Image}}", PS_ROWS[:1], PS_TABLE) == (
        "NAMES     IMAGE\nweb       busybox\n")


def test_table_format_trims_surrounding_spaces():
    assert format_rows("table {{.Names}}  ", PS_ROWS, PS_TABLE, headers=PS_HEADERS) == (
        "NAMES\nweb\nreg\n")


def test_bad_template_is_a_template_parsing_error():
    with pytest.raises(InvalidArgument) as info:
        format_rows("{{.ID", PS_ROWS, PS_TABLE)
    assert str(info.value) == "template parsing error: template: :1: unclosed action"


def test_execution_error_aborts_the_listing():
    with pytest.raises(InvalidArgument) as info:
        format_rows("{{.ID.Foo}}", PS_ROWS, PS_TABLE)
    assert str(info.value).startswith('template parsing error: template: :1:5: executing "" at <.ID.Foo>')


def test_rows_of_a_docker_struct_refuse_fields_they_lack_naming_the_struct():
    # `docker images --format '{{.Nope}}'`: docker/cli's rows are Go structs, not maps
    rows = [{"Repository": "busybox", "Tag": "latest"}]
    with pytest.raises(InvalidArgument, match=r"^template parsing error: template: :1:2: executing \"\" "
                       r"at <\.Nope>: can't evaluate field Nope in type \*formatter\.imageContext$"):
        format_rows("{{.Nope}}", rows, "", go_type="*formatter.imageContext")
    assert format_rows("{{.Tag}}", rows, "", go_type="*formatter.imageContext") == "latest\n"
    assert format_rows("{{.Nope}}", rows, "") == "<no value>\n"  # a plain map, as `inspect` has
    assert format_rows("json", rows, "", go_type="*formatter.imageContext") == (
        '{"Repository":"busybox","Tag":"latest"}\n')
