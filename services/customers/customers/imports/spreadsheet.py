"""How a spreadsheet's file becomes rows, strictly (headers in three languages, separators,
encodings, several numbers in a cell; a malformed row is reported, never guessed), and how a
value is written into a spreadsheet's cell without being run as a formula."""

import csv
import io
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator
from typing import IO, Any

from customers.cards.model import Customer
from customers.imports.model import ImportRow, error_row
from hanout_shared.platform.phones import InvalidPhone, parse_phone

MAX_ROW_BYTES = 64 * 1024  # a customer's row is a few hundred bytes; more is not a card
# Columns whose cell may span lines (an address typed with Alt+Enter, numbers one per line). A
# line break anywhere else is the mark of a quote left open that swallowed the next rows.
MULTILINE = frozenset({"address", "phones"})
# A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FLAGGED_FIELDS = ("name", "city", "address", "tags", "status")  # text, never a phone

# Header names seen in shops' spreadsheets (English, French, Arabic), folded like _fold does.
COLUMNS = {
    "name": ("name", "nom", "fullname", "nomcomplet", "client", "customer", "الاسم"),
    "phones": ("phone", "phones", "telephone", "tel", "mobile", "gsm", "numero", "الهاتف"),
    "city": ("city", "ville", "المدينة"),
    "address": ("address", "adresse", "العنوان"),
    "tags": ("tags", "tag", "etiquettes", "labels"),
    "status": ("status", "statut"),
}
_ALIASES = {alias: field for field, names in COLUMNS.items() for alias in names}
Read = tuple[int, dict[str, Any] | ImportRow]
PHONE_SEPARATORS = re.compile(r"[/;|,\n]")


class _RowTooLarge(Exception):
    pass


class _Lines:
    """The file's lines, decoded and numbered, for the csv reader; remembers the lines of the
    record being read, so that a malformed record's later lines can be read again as rows."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream, self._number = stream, 0
        self._again: deque[tuple[int, str, int]] = deque()
        self.taken: list[tuple[int, str, int]] = []  # number, text, size in bytes

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        number, text, size = self._again.popleft() if self._again else self._read()
        self.taken.append((number, text, size))
        if sum(taken[2] for taken in self.taken) > MAX_ROW_BYTES:
            raise _RowTooLarge
        return text

    def _read(self) -> tuple[int, str, int]:
        line = self._stream.readline(MAX_ROW_BYTES + 1)
        if not line:
            raise StopIteration
        if len(line) > MAX_ROW_BYTES and not line.endswith(b"\n"):
            while (rest := self._stream.readline(MAX_ROW_BYTES)) and not rest.endswith(b"\n"):
                pass  # the rest of an over-long line, read without keeping it
        self._number += 1
        return self._number, _decode(line), len(line)

    def start_record(self) -> None:
        self.taken = []

    def read_again_after_first(self) -> None:
        self._again.extendleft(reversed(self.taken[1:]))


def _fold(header: str) -> str:
    plain = unicodedata.normalize("NFKD", header.casefold())
    return "".join(ch for ch in plain if ch.isalnum() and not unicodedata.combining(ch))


def _decode(line: bytes) -> str:
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")  # Excel's "CSV" on a French Windows


def read_rows(stream: IO[bytes]) -> Iterator[Read]:
    """(line number, card fields) of each non-empty row, or (line number, the row's error); the
    header names the columns. Streamed: one row in memory at a time."""
    lines = _Lines(stream)
    header = next(lines, "")
    delimiter = max(";,\t", key=header.count)
    columns = [_ALIASES.get(_fold(h)) for h in next(csv.reader([header], delimiter=delimiter))]
    if "name" not in columns and "phones" not in columns:
        raise ValueError("The first line must name the columns, with at least name or phone")
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    while True:
        lines.start_record()
        try:
            cells = next(reader, None)
        except (csv.Error, _RowTooLarge) as exc:
            yield _malformed(lines, exc)
            continue
        if cells is None:
            return
        read = _row(lines.taken[0][0], columns, cells)
        if read and isinstance(read[1], ImportRow):
            lines.read_again_after_first()  # what a quote left open swallowed: rows of their own
        if read:
            yield read


def _malformed(lines: _Lines, exc: Exception) -> Read:
    """The row that could not be read, reported at its first line; the lines it swallowed are
    read again as rows of their own."""
    line = lines.taken[0][0]
    lines.read_again_after_first()
    if isinstance(exc, _RowTooLarge):
        message = f"A row is at most {MAX_ROW_BYTES // 1024} KiB (or a quote on it is not closed)"
        return line, error_row(line, "row_too_large", message)
    if "unexpected end of data" in str(exc):
        return line, error_row(
            line, "unbalanced_quote", "A quote opened on this line is never closed"
        )
    return line, error_row(line, "malformed_row", f"Not a CSV row: {exc}")


def _row(line: int, columns: list[str | None], cells: list[str]) -> Read | None:
    if any(cell.strip() for cell in cells[len(columns) :]):
        message = f"{len(cells)} cells for {len(columns)} columns (an unquoted separator?)"
        return line, error_row(line, "too_many_cells", message)
    cell = {c: v.strip() for c, v in zip(columns, cells, strict=False) if c and v.strip()}
    for column, value in cell.items():
        if column not in MULTILINE and ("\n" in value or "\r" in value):
            message = f"A line break inside the {column} (a quote left open?)"
            return line, error_row(line, "line_break", message, column)
    return (line, {k: _split(k, v) for k, v in cell.items()}) if cell else None


def _split(column: str, value: str) -> str | list[str]:
    """Several phones or tags in one cell, the way people type them ("06.. / 07..")."""
    if column == "tags":
        return [v.strip() for v in re.split(r"[;|,]", value) if v.strip()]
    if column != "phones":
        return value
    if not PHONE_SEPARATORS.search(value):
        return [value]  # one number (read once, with the card: parsing is the import's cost)
    try:
        parse_phone(value)
        return [value]  # one number written with slashes, e.g. 06/12/34/56/78
    except InvalidPhone:
        return [v.strip() for v in PHONE_SEPARATORS.split(value) if v.strip()]


def looks_like_formula(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def formula_fields(values: dict[str, Iterable[str] | str | None]) -> list[str]:
    """The text fields (never a phone) holding a value a spreadsheet would run as a formula."""
    found = []
    for field in FLAGGED_FIELDS:
        value = values.get(field)
        texts = [value] if isinstance(value, str) else list(value or [])
        if any(looks_like_formula(text) for text in texts):
            found.append(field)
    return found


def spreadsheet_cell(value: str) -> str:
    """A text value as a cell a spreadsheet shows as text: a leading `'` before a formula."""
    return f"'{value}" if looks_like_formula(value) else value


EXPORT_COLUMNS = ("name", "phone", "city", "address", "tags", "status")


def export_cells(customer: Customer) -> list[str]:
    """A card as a row of the export, in `EXPORT_COLUMNS` order (what the import reads back).
    Its numbers are validated E.164 (`+` and digits): a phone, never a formula, written as is."""
    texts = [customer.name, customer.city, customer.address, ",".join(customer.tags)]
    name, city, address, tags, status = (
        spreadsheet_cell(text or "") for text in [*texts, customer.status]
    )
    return [name, " / ".join(p.e164 for p in customer.phones), city, address, tags, status]


def csv_line(cells: Iterable[str]) -> str:
    line = io.StringIO()
    csv.writer(line, lineterminator="\r\n").writerow(cells)
    return line.getvalue()
