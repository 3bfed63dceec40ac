#!/usr/bin/env python3
"""Strict validator for plugins.d output aimed at Netdata 1.37.1.

Reads plugin output (stdin, or the file named as the only argument) and exits 1
at the first line that Netdata 1.37.1 would reject, crash on or misread, or that
breaks this project's protocol rules (docs/DESIGN.md): unknown keyword, BEGIN of
an undeclared or obsolete chart, SET of an undeclared dimension or outside
BEGIN, END without BEGIN, CLABEL without exactly name value source, DIMENSION
before any CHART, more than 20 words, a line of 15360 bytes or more, numbers
that are not plain decimal integers (a leading 0 is octal to the agent), broken
quoting. Prints "line N: problem" on stderr. Exit 0 and a summary otherwise.
"""
import re
import sys

MAX_WORDS = 20  # PLUGINSD_MAX_WORDS, keyword included
MAX_LINE_BYTES = 15360  # PLUGINSD_LINE_MAX: fgets() keeps at most 15359 bytes
MAX_CHART_ID_BYTES = 200  # RRD_ID_LENGTH_MAX
MAX_DIMENSION_ID_BYTES = 100
SEPARATORS = b" \t\r\n="  # pluginsd_space(): '=' separates words too
INT64_MIN, INT64_MAX, UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

ID = re.compile(rb"[A-Za-z0-9_.-]+")
DECIMAL = re.compile(rb"-?(0|[1-9][0-9]*)")
UNSIGNED = re.compile(rb"0|[1-9][0-9]*")
CHART_TYPES = {b"line", b"area", b"stacked"}
CHART_OPTIONS = {b"obsolete", b"detail", b"hidden", b"store_first"}
ALGORITHMS = {b"absolute", b"incremental", b"percentage-of-absolute-row", b"percentage-of-incremental-row"}
DIMENSION_OPTIONS = {b"obsolete", b"hidden", b"noreset", b"nooverflow"}
LABEL_SOURCES = {b"1", b"2", b"4", b"8"}


class ProtocolError(Exception):
    pass


def split_words(line):
    """The agent's quoted_strings_splitter(): returns (word, quoted) pairs."""
    words, i, n = [], 0, len(line)
    while True:
        while i < n and line[i] in SEPARATORS:
            i += 1
        if i >= n:
            return words
        quote = line[i] if line[i] in b"'\"" else None
        if quote is not None:
            i += 1
        start = i
        while i < n and line[i] != quote and (quote is not None or line[i] not in SEPARATORS):
            if line[i] == ord("\\"):
                raise ProtocolError("backslash (the agent skips the character after it)")
            i += 1
        if quote is not None and i >= n:
            raise ProtocolError("unterminated quote")
        word = line[start:i]
        if b"'" in word or b'"' in word:
            raise ProtocolError("quote character inside a word (broken quoting)")
        if any(c < 0x20 or c == 0x7F for c in word):
            raise ProtocolError("control character inside a word")
        words.append((word, quote is not None))
        if quote is not None:
            i += 1


def integer(word, what, low=INT64_MIN, high=INT64_MAX, pattern=DECIMAL):
    if not pattern.fullmatch(word) or not low <= int(word) <= high:
        raise ProtocolError(f"{what} {word.decode(errors='replace')!r} is not a plain decimal integer in range")
    return int(word)


def identifier(word, what, max_bytes):
    if not ID.fullmatch(word) or len(word) > max_bytes:
        raise ProtocolError(f"{what} {word.decode(errors='replace')!r} is not [A-Za-z0-9_.-]{{1,{max_bytes}}}")
    return word


class Agent:
    """What the agent knows: charts, their dimensions, the chart being updated."""

    def __init__(self):
        self.charts = {}  # id -> set of dimension ids
        self.obsolete = set()
        self.last_chart = None  # target of DIMENSION / CLABEL / CLABEL_COMMIT
        self.open_chart = None  # between BEGIN and END
        self.updates = 0

    def line(self, words):
        keyword, *args = [w for w, _ in words]
        handler = getattr(self, "do_" + keyword.decode(errors="replace"), None)
        if handler is None:
            raise ProtocolError(f"unknown keyword {keyword.decode(errors='replace')!r}")
        if self.open_chart is not None and keyword not in (b"SET", b"END"):
            raise ProtocolError(f"{keyword.decode()} between BEGIN {self.open_chart.decode()} and END")
        handler(args)

    def do_CHART(self, args):
        if not args:
            raise ProtocolError("CHART without type.id (the agent disables the plugin)")
        if len(args) > 12:
            raise ProtocolError("CHART with more than 12 arguments")
        chart = identifier(args[0], "chart id", MAX_CHART_ID_BYTES)
        type_part, dot, id_part = chart.partition(b".")
        if not dot or not type_part or not id_part:
            raise ProtocolError("chart id is not type.id (the agent disables the plugin)")
        if len(args) > 6 and args[6] and args[6] not in CHART_TYPES:
            raise ProtocolError(f"chart type {args[6].decode()!r} is not line, area or stacked")
        if len(args) > 7 and args[7]:
            integer(args[7], "priority")
        if len(args) > 8 and args[8]:
            integer(args[8], "update_every", low=1, high=2**31 - 1)
        options = args[9].split() if len(args) > 9 else []
        for option in options:
            if option not in CHART_OPTIONS:
                raise ProtocolError(f"unknown chart option {option.decode()!r}")
        self.charts.setdefault(chart, set())
        if b"obsolete" in options:
            self.obsolete.add(chart)
        else:
            self.obsolete.discard(chart)
        self.last_chart = chart

    def do_DIMENSION(self, args):
        if self.last_chart is None:
            raise ProtocolError("DIMENSION before any CHART (the agent disables the plugin)")
        if not args:
            raise ProtocolError("DIMENSION without an id")
        if len(args) > 6:
            raise ProtocolError("DIMENSION with more than 6 arguments")
        dimension = identifier(args[0], "dimension id", MAX_DIMENSION_ID_BYTES)
        if len(args) > 2 and args[2] and args[2] not in ALGORITHMS:
            raise ProtocolError(f"unknown algorithm {args[2].decode()!r}")
        for position, what in ((3, "multiplier"), (4, "divisor")):
            if len(args) > position and integer(args[position], what) == 0:
                raise ProtocolError(f"{what} 0")
        options = args[5].split() if len(args) > 5 else []
        for option in options:
            if option not in DIMENSION_OPTIONS:
                raise ProtocolError(f"unknown dimension option {option.decode()!r}")
        if b"obsolete" in options:
            self.charts[self.last_chart].discard(dimension)
        else:
            self.charts[self.last_chart].add(dimension)

    def do_CLABEL(self, args):
        if len(args) != 3:
            raise ProtocolError("CLABEL needs exactly name value source (without the source the agent crashes)")
        if args[2] not in LABEL_SOURCES:
            raise ProtocolError(f"CLABEL source {args[2].decode(errors='replace')!r} is not 1, 2, 4 or 8")
        if not args[0]:
            raise ProtocolError("CLABEL with an empty name")
        if self.last_chart is None:
            raise ProtocolError("CLABEL before any CHART")

    def do_CLABEL_COMMIT(self, args):
        if args:
            raise ProtocolError("CLABEL_COMMIT takes no arguments")
        if self.last_chart is None:
            raise ProtocolError("CLABEL_COMMIT before any CHART")

    def do_BEGIN(self, args):
        if not args or len(args) > 2:
            raise ProtocolError("BEGIN needs type.id and optional microseconds")
        chart = args[0]
        if chart not in self.charts:
            raise ProtocolError(f"BEGIN of undeclared chart {chart.decode(errors='replace')} (the agent disables the plugin)")
        if chart in self.obsolete:
            raise ProtocolError(f"BEGIN of obsolete chart {chart.decode()}")
        if len(args) == 2:
            integer(args[1], "microseconds", low=0, high=UINT64_MAX, pattern=UNSIGNED)
        self.open_chart = chart

    def do_SET(self, args):
        if self.open_chart is None:
            raise ProtocolError("SET outside BEGIN/END (the agent disables the plugin)")
        if not args or len(args) > 2:
            raise ProtocolError("SET needs a dimension id and at most one value")
        if args[0] not in self.charts[self.open_chart]:
            raise ProtocolError(
                f"SET of undeclared dimension {args[0].decode(errors='replace')} in {self.open_chart.decode()}"
                " (the agent disables the plugin)")
        if len(args) == 2:
            integer(args[1], "value")

    def do_END(self, args):
        if self.open_chart is None:
            raise ProtocolError("END without BEGIN (the agent disables the plugin)")
        if args:
            raise ProtocolError("END takes no arguments")
        self.open_chart = None
        self.updates += 1

    def do_DISABLE(self, args):
        if args:
            raise ProtocolError("DISABLE takes no arguments")


def check(stream):
    """Returns (line count, agent); raises ProtocolError with the line number."""
    agent = Agent()
    number = 0
    for number, raw in enumerate(stream, start=1):
        try:
            if len(raw) >= MAX_LINE_BYTES:
                raise ProtocolError(f"line of {len(raw)} bytes (the agent keeps {MAX_LINE_BYTES - 1})")
            if not raw.endswith(b"\n"):
                raise ProtocolError("last line has no newline")
            if b"\0" in raw:
                raise ProtocolError("NUL byte")
            words = split_words(raw)
            if len(words) > MAX_WORDS:
                raise ProtocolError(f"{len(words)} words (the agent reads {MAX_WORDS})")
            if words:
                agent.line(words)
        except ProtocolError as error:
            raise ProtocolError(f"line {number}: {error}: {raw[:200]!r}") from None
    if agent.open_chart is not None:
        raise ProtocolError(f"line {number}: end of input between BEGIN {agent.open_chart.decode()} and END")
    return number, agent


def main():
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        sys.stderr.write("usage: protocol-check.py [FILE]  (default: standard input)\n")
        return 2
    try:
        if len(sys.argv) == 2:
            with open(sys.argv[1], "rb") as stream:
                lines, agent = check(stream)
        else:
            lines, agent = check(sys.stdin.buffer)
    except ProtocolError as error:
        sys.stderr.write(f"protocol-check: {error}\n")
        return 1
    print(f"protocol-check: OK: {lines} lines, {len(agent.charts)} charts, {agent.updates} updates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
