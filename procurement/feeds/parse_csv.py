"""CSV pages, row by row: a header row, then records; bad records are rejected, not fatal.

Fatal (the read stops, rows before were already yielded): a quote never closed (the rest of the
file would be swallowed into one field), a field over 10 MB, bytes the declared encoding cannot
decode. Rejected rows: a record with fewer fields than the header (or more, unless the extra ones
are empty, as Excel writes them), text after a closing quote, a field over 1,000,000 characters.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import IO

from django.utils.translation import gettext as _

from procurement.feeds.errors import FeedReadError
from procurement.feeds.mapping import ItemError, RawItem, raw_excerpt
from procurement.feeds.options import CsvOptions

# csv's own ceiling (131,072 by default) would make one long description fatal; past 10 MB a
# field is almost certainly a quote that was never closed.
CSV_FIELD_LIMIT = 10 * 1024 * 1024
FIELD_MAX_CHARS = 1_000_000


def csv_items_parse(
    *,
    file: IO[bytes],
    options: CsvOptions,
    encoding: str,
    on_header: Callable[[list[str]], None],
    warn: Callable[[str], None],
) -> Iterator[RawItem | ItemError]:
    """Yield one ``RawItem`` per record (keys are the header's column names) or an ``ItemError``.

    ``on_header`` receives the cleaned header before the first record (it may raise to stop).
    """
    csv.field_size_limit(CSV_FIELD_LIMIT)
    text = io.TextIOWrapper(file, encoding=encoding, newline="")
    # strict: text after a closing quote is an error we can report on its row (lenient mode
    # silently glues it to the field), and a quote still open at the end of the file is detected.
    reader = csv.reader(text, delimiter=options.delimiter, quotechar=options.quotechar, strict=True)
    header: tuple[str, ...] | None = None
    previous_line = 0
    try:
        while True:
            start = previous_line + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                previous_line = reader.line_num
                yield _malformed_record(exc, line=start, header_read=header is not None)
                continue
            previous_line = reader.line_num
            if not "".join(row).strip():
                continue  # blank lines and Excel's ";;;;" lines (one join: 0.16 µs, any() 0.58)
            if header is None:
                cleaned = _header_clean(row, warn=warn)
                on_header(cleaned)
                header = tuple(cleaned)  # one object for every record of the page
                continue
            yield _record(start, row, header)
    except UnicodeDecodeError:
        raise FeedReadError(
            _("Line %(line)s: the bytes are not valid %(encoding)s; set format_options.encoding.")
            % {"line": previous_line + 1, "encoding": encoding},
            phase="parse",
        ) from None
    finally:
        if not file.closed:
            text.detach()  # the caller owns (and closes) the underlying file
    if header is None:
        raise FeedReadError(_("The CSV has no header row (the page is empty)."), phase="parse")


def _malformed_record(exc: csv.Error, *, line: int, header_read: bool) -> ItemError:
    """The row a CSV syntax error costs; raises when the rest of the file cannot be trusted
    (an unterminated quote, a 10 MB field) or when the header itself is broken."""
    reason = str(exc)
    if "unexpected end of data" in reason:
        raise FeedReadError(
            _("Line %(line)s: a quoted field is never closed (unterminated quote); the read stopped there.")
            % {"line": line},
            phase="parse",
        ) from None
    if "field larger than field limit" in reason:
        raise FeedReadError(
            _(
                "Line %(line)s: a field is longer than 10 MB, most likely because a quote is "
                "never closed; the read stopped there."
            )
            % {"line": line},
            phase="parse",
        ) from None
    if not header_read:
        raise FeedReadError(
            _("Line %(line)s: the header row is not valid CSV (%(reason)s).")
            % {"line": line, "reason": reason},
            phase="parse",
        ) from None
    return ItemError(
        line,
        _("malformed CSV: %(reason)s (quote characters inside a field must be doubled)") % {"reason": reason},
        {},
    )


def _header_clean(row: list[str], *, warn: Callable[[str], None]) -> list[str]:
    header = []
    for index, name in enumerate(row):
        name = name.replace("\ufeff", "").strip()
        header.append(name or f"column {index + 1}")
    seen: set[str] = set()
    for name in header:
        if name in seen:
            warn(
                _('Column "%(name)s" appears more than once in the header; the last one is used.')
                % {"name": name}
            )
        seen.add(name)
    return header


def _record(line: int, row: list[str], header: tuple[str, ...]) -> RawItem | ItemError:
    expected = len(header)
    if len(row) != expected and (len(row) < expected or any(f.strip() for f in row[expected:])):
        data = dict(zip(header, row, strict=False))
        data.update({f"#{i + 1}": value for i, value in enumerate(row[expected:], start=expected)})
        return ItemError(
            line,
            _(
                "%(count)s fields where the header has %(expected)s "
                "(a ragged line; check delimiters and quotes)"
            )
            % {"count": len(row), "expected": expected},
            raw_excerpt(data),
        )
    if max(map(len, row)) <= FIELD_MAX_CHARS:
        return RawItem(line, header=header, fields=row)  # the dict is built when it is mapped
    data = dict(zip(header, row, strict=False))
    for name, value in data.items():
        if len(value) > FIELD_MAX_CHARS:
            return ItemError(
                line,
                _('column "%(name)s": %(count)s characters; the limit is %(limit)s')
                % {"name": name, "count": f"{len(value):,}", "limit": f"{FIELD_MAX_CHARS:,}"},
                raw_excerpt(data),
            )
    return RawItem(line, data)
