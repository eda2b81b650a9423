"""Excel (.xlsx) exports: a header row, then the rows, written in openpyxl's write-only mode (rows
go to the file as they come, no cell objects kept). Excel has no time zones: timestamps go out as
UTC without one, and the header says so."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 1_048_575  # a worksheet's rows, less the header


def _cell(value: Any) -> Any:  # noqa: ANN401 - any column's value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, list | tuple | dict):
        return str(value)
    return value if value is None or isinstance(value, int | float | str | bool | datetime) else str(value)


def workbook(sheet: str, rows: Iterable[Sequence[Any]]) -> bytes:
    """`rows`: column names first. Stops at a worksheet's last row."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    it: Iterator[Sequence[Any]] = iter(rows)
    header = list(next(it))
    ws.append(header)
    for n, row in enumerate(it):
        if n >= MAX_ROWS:
            break
        ws.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(filename: str, sheet: str, rows: Iterable[Sequence[Any]]) -> Response:
    return Response(workbook(sheet, rows), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
