"""CSV answers streamed row by row, with cells a spreadsheet shows and never runs."""

import csv
import json
from collections.abc import Iterable, Iterator, Sequence


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_cell(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell starting with = + - @ (or a tab or carriage
    # return, which some spreadsheets skip before reading a formula) is shown, never run.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The header, then each row, as lines of CSV text (for a ``StreamingHttpResponse``)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])
