"""``jixiao sql``: queries against the warehouse, read-only, one-off or interactive.

The warehouse is opened read-only (the published file: a running ingest never blocks it, and a
query never changes it). Results print as an aligned table, CSV or JSON lines; in a table or CSV
a list or struct is written as JSON, and CSV written to a file or pipe starts with a UTF-8 byte
order mark, so that Excel reads its Chinese text.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

import duckdb

from warehouse.ddl import VIEWS
from warehouse.store import Warehouse

FORMATS = ("table", "csv", "json")
CELL_WIDTH = 60  # longer text is cut in table output
BOM = "\ufeff"  # Excel reads a CSV file as UTF-8 only when it starts with this
NULL = "NULL"  # how a missing value shows in a table
HELP = f"""\
Statements end with ';' and may span lines. Views: {", ".join(VIEWS)}.
  .help           this help
  .tables         list the views and their row counts
  .schema VIEW    the columns of a view
  .format FORMAT  table, csv or json
  .quit           leave (or Ctrl-D)
"""


class QueryError(Exception):
    """A query DuckDB refused; the message says why and what to do. ``done`` holds the results
    of the statements before it."""

    def __init__(self, message: str, done: str = "") -> None:
        super().__init__(message)
        self.done = done


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def _text(value: Any) -> str:
    """A value as one cell of text: lists and structs as JSON, NULL as ''."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(_plain(value), ensure_ascii=False)
    return value if isinstance(value, str) else str(_plain(value))


def _cell(value: Any) -> str:
    if value is None:
        return NULL
    text = _text(value).replace("\n", " ")
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(char) >= 0x1100 else 1 for char in text)


def _is_numeric(values: Iterable[Any]) -> bool:
    """Whether a column holds numbers only (NULLs aside): such a column is right-aligned."""
    present = [value for value in values if value is not None]
    return bool(present) and all(
        isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
        for value in present
    )


def _pad(cell: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(cell))
    return fill + cell if right else cell + fill


def format_rows(columns: Sequence[str], rows: list[tuple], fmt: str = "table") -> str:
    """Render a result as 'table', 'csv' or 'json' (one object per line)."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_text(v) for v in row] for row in rows])
        return out.getvalue()
    if fmt == "json":
        return "".join(
            json.dumps(dict(zip(columns, map(_plain, row))), ensure_ascii=False) + "\n"
            for row in rows
        )
    cells = [list(columns)] + [[_cell(value) for value in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(columns))]
    numeric = [_is_numeric(row[i] for row in rows) for i in range(len(columns))]
    lines = []
    for number, row in enumerate(cells):
        lines.append(
            "  ".join(_pad(cell, width, right) for cell, width, right in zip(row, widths, numeric))
        )
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    count = len(rows)
    lines.append(f"({count} row{'s' if count != 1 else ''})")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def run_query(
    warehouse: Warehouse, query: str, fmt: str = "table", max_rows: int | None = None
) -> str:
    """Run the statements of ``query`` on the read-only warehouse; each result rendered, in
    order (a table's results one blank line apart). None runs if one does not parse; a failing
    statement stops the rest, its error raised after the results before it are printed."""
    try:
        statements = [s.query for s in duckdb.extract_statements(query)]
    except duckdb.Error as error:
        raise QueryError(_explain(error)) from None
    texts = []
    for statement in statements:
        try:
            texts.append(_run_statement(warehouse, statement, fmt, max_rows))
        except QueryError as error:
            raise QueryError(str(error), done=_joined(texts, fmt)) from None
    return _joined(texts, fmt)


def _joined(texts: list[str], fmt: str) -> str:
    return ("\n" if fmt == "table" else "").join(texts)


def _run_statement(warehouse: Warehouse, query: str, fmt: str, max_rows: int | None) -> str:
    try:
        result = warehouse.connection.execute(query)
    except duckdb.Error as error:
        raise QueryError(_explain(error)) from None
    if result.description is None:
        return "ok\n"
    columns = [column[0] for column in result.description]
    rows = result.fetchmany(max_rows) if max_rows else result.fetchall()
    text = format_rows(columns, rows, fmt)
    if max_rows and len(rows) == max_rows and result.fetchone() is not None:
        text += f"(stopped at {max_rows} rows: add a LIMIT, or raise --max-rows)\n"
    return text


def _explain(error: duckdb.Error) -> str:
    message = str(error).strip()
    if "read-only" in message or "read only" in message:
        return (
            f"{message}\nThe warehouse is opened read-only: jixiao sql only reads. Load files "
            "with jixiao ingest or backfill; release forms with jixiao quarantine."
        )
    if isinstance(error, duckdb.CatalogException):
        return f"{message}\nThe views are: {', '.join(VIEWS)} (.tables lists them)."
    return message


def interactive(warehouse: Warehouse, fmt: str, stdin: TextIO, stdout: TextIO) -> None:
    """A prompt (or statements piped in): statements end with ';'; dot commands as in HELP."""
    tty = stdin.isatty()
    if tty:
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
        stdout.write(f"jixiao sql on {warehouse.path} (read-only). .help for help\n")
    buffer: list[str] = []
    while (line := _read(stdin, tty, "   ...> " if buffer else "jixiao> ")) is not None:
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            command, _, argument = stripped.partition(" ")
            if command in (".quit", ".exit"):
                return
            fmt = _dot(warehouse, command, argument.strip(), fmt, stdout)
            continue
        if stripped:
            buffer.append(line.rstrip("\n"))
        if stripped.endswith(";"):
            _execute(warehouse, "\n".join(buffer), fmt, stdout)
            buffer = []
    if buffer:
        _execute(warehouse, "\n".join(buffer), fmt, stdout)


def _read(stdin: TextIO, tty: bool, prompt: str) -> str | None:
    if tty:
        try:
            return input(prompt)
        except EOFError:
            return None
    return stdin.readline() or None


def _execute(warehouse: Warehouse, statement: str, fmt: str, stdout: TextIO) -> None:
    try:
        stdout.write(run_query(warehouse, statement, fmt))
    except QueryError as error:
        stdout.write(f"{error.done}error: {error}\n")
    stdout.flush()


def _dot(warehouse: Warehouse, command: str, argument: str, fmt: str, stdout: TextIO) -> str:
    if command == ".tables":
        counts = " UNION ALL ".join(
            f"SELECT '{v}' AS view, count(*) AS rows FROM {v}" for v in VIEWS
        )
        stdout.write(run_query(warehouse, counts, "table"))
    elif command == ".schema" and argument:
        _execute(warehouse, f'DESCRIBE "{argument.replace(chr(34), "")}"', "table", stdout)
    elif command == ".format" and argument in FORMATS:
        return argument
    elif command == ".help":
        stdout.write(HELP)
    elif command == ".schema":
        stdout.write(f"error: .schema needs a view, e.g. .schema forms ({', '.join(VIEWS)})\n")
    elif command == ".format":
        stdout.write(f"error: .format takes {', '.join(FORMATS)}\n")
    else:
        stdout.write(f"error: {command} is not a command; .help lists them\n")
    return fmt


def main(db: str, query: str | None, fmt: str, max_rows: int | None) -> int:
    """Run ``query`` (or the prompt, or statements from a pipe); returns an exit code."""
    bom = BOM if fmt == "csv" and not sys.stdout.isatty() else ""
    with Warehouse.open(db, read_only=True) as warehouse:
        if query:
            try:
                sys.stdout.write(bom + run_query(warehouse, query, fmt, max_rows))
            except QueryError as error:
                sys.stdout.write(bom + error.done)
                print(f"jixiao: {error}", file=sys.stderr)
                return 2
            return 0
        sys.stdout.write(bom)
        interactive(warehouse, fmt, sys.stdin, sys.stdout)
    return 0
