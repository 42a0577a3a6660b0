"""How docker prints a list: ``--format`` handling and Go tabwriter alignment.

Owns docker/cli's formatter logic (cli/command/formatter/formatter.go):
- a format starting with ``table`` renders a header row (the same template run
  on the caller's header map with docker's header functions) and aligns cells
  with tabwriter(minwidth=10, tabwidth=1, padding=3, padchar=' ', flags=0);
- ``json`` as the whole format is ``{{json .}}``, one JSON object per row;
- anything else renders each row raw, one line per row, no header;
- in every format the two-character sequences ``\\t`` and ``\\n`` become a
  tab and a newline, and surrounding spaces are trimmed.

``align`` reproduces Go's text/tabwriter (as vendored by docker/cli) byte for
byte: cells are tab-terminated, a column block ends at the first line with
fewer cells, the text after a line's last tab is not part of any column, a
line without tabs flushes, and widths count terminal cells (East Asian wide
characters count two).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pallet.errors import InvalidArgument
from pallet.format.template import compile_template

TABLE_KEY = "table"
JSON_KEY = "json"
MIN_WIDTH, PADDING = 10, 3  # tabwriter.NewWriter(output, 10, 1, 3, ' ', 0)

_CELL_END = re.compile(r"[\t\v\n\f]")


class StructRow(dict):
    """A row docker/cli renders from a Go struct (`_go_type`, e.g. ``*formatter.imageContext``):
    a field it lacks is an execution error naming that type, not ``<no value>`` as for a map."""
    _go_type: str | None = None

    def __json__(self):  # Go marshals the map docker/cli makes of a row: sorted keys
        return {k: self[k] for k in sorted(self) if not k.startswith("_")}


def as_struct(row: Mapping, go_type: str) -> Mapping:
    if type(row) is dict:
        row = StructRow(row)
    row._go_type = go_type
    return row


def format_rows(format: str | None, rows: Iterable, default_table: str,
                quiet_field: str | None = None,
                headers: Mapping[str, str] | None = None, go_type: str | None = None) -> str:
    """Render ``rows`` the way docker's list commands do; returns the whole output.

    ``format`` is the user's ``--format`` (None or ``table`` selects
    ``default_table``, or ``{{.<quiet_field>}}`` when ``-q`` gave one);
    ``headers`` maps field names to column titles (``{"ID": "CONTAINER ID"}``);
    a field missing from it heads its column ``<no value>``, as in docker.
    Without ``headers`` a column is headed by its field name in upper case.
    """
    chosen = _choose_format(format, default_table, quiet_field)
    is_table = chosen.startswith(TABLE_KEY)
    body = chosen[len(TABLE_KEY):] if is_table else chosen
    if chosen == JSON_KEY:
        body = "{{json .}}"
    body = body.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    try:
        template = compile_template(body)
        out: list[str] = []
        for row in rows:
            template.execute(as_struct(row, go_type) if go_type else row, out)
            out.append("\n")
    except InvalidArgument as exc:
        raise InvalidArgument(f"template parsing error: {exc}") from None
    if chosen == JSON_KEY:  # docker/cli json.Marshal's each row: HTML characters escaped,
        # unlike its {{json}} function (only inside strings can these characters appear)
        return "".join(out).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if not is_table:
        return "".join(out)
    header: list[str] = []
    try:
        template.execute(_UpperCaseHeaders() if headers is None else headers,
                         header, header=True)
    except InvalidArgument:
        pass  # docker ignores a header error and prints what was rendered before it
    return align("".join(header) + "\n" + "".join(out))


def _choose_format(format: str | None, default_table: str, quiet_field: str | None) -> str:
    if format is None or format == "" or format == TABLE_KEY:
        if quiet_field:
            return "{{." + quiet_field + "}}"
        return default_table
    return format


class _UpperCaseHeaders(dict):
    """Header map for callers that give none: ``{{.Image}}`` heads ``IMAGE``."""

    def __missing__(self, key: str) -> str:
        return key.upper()


def align(text: str, minwidth: int = MIN_WIDTH, padding: int = PADDING,
          padchar: str = " ") -> str:
    """Go's tabwriter.Writer: Write(text) then Flush(), returning the output."""
    out: list[str] = []
    lines: list[list[tuple[str, int]]] = [[]]
    pos = 0
    for match in _CELL_END.finditer(text):
        cell = text[pos:match.start()]
        pos = match.end()
        lines[-1].append((cell, _width(cell)))
        if match.group() in "\n\f":
            ncells = len(lines[-1])
            lines.append([])
            if match.group() == "\f" or ncells == 1:
                # A line without tabs cannot affect later lines: flush, like Go.
                _Formatter(lines, out, minwidth, padding, padchar).run()
                lines = [[]]
    if pos < len(text):
        rest = text[pos:]
        lines[-1].append((rest, _width(rest)))
    _Formatter(lines, out, minwidth, padding, padchar).run()
    return "".join(out)


class _Formatter:
    """The elastic-tabstop pass of Go's tabwriter over buffered lines."""

    def __init__(self, lines, out, minwidth, padding, padchar):
        self.lines, self.out = lines, out
        self.minwidth, self.padding, self.padchar = minwidth, padding, padchar
        self.widths: list[int] = []

    def run(self) -> None:
        self.format(0, len(self.lines))

    def format(self, line0: int, line1: int) -> None:
        column = len(self.widths)
        this = line0
        while this < line1:
            if column >= len(self.lines[this]) - 1:
                this += 1
                continue
            # A cell exists in this column: print the lines before the block,
            # then find the block's extent and its width.
            self.write_lines(line0, this)
            line0 = this
            width = self.minwidth
            while this < line1 and column < len(self.lines[this]) - 1:
                width = max(width, self.lines[this][column][1] + self.padding)
                this += 1
            self.widths.append(width)
            self.format(line0, this)
            self.widths.pop()
            line0 = this
        self.write_lines(line0, line1)

    def write_lines(self, line0: int, line1: int) -> None:
        out, widths, last = self.out, self.widths, len(self.lines) - 1
        for i in range(line0, line1):
            for j, (cell, width) in enumerate(self.lines[i]):
                out.append(cell)
                if j < len(widths):
                    out.append(self.padchar * (widths[j] - width))
            if i != last:
                out.append("\n")


def _width(cell: str) -> int:
    """Terminal cells a string takes, as go-runewidth counts them."""
    if cell.isascii():
        return len(cell)
    import unicodedata  # only non-ASCII cells pay for it

    width = 0
    for ch in cell:
        if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufeff":
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width
