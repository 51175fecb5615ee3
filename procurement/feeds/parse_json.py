"""JSON pages: a document whose items sit at ``items_path`` (read with ijson), or JSON Lines.

Both stream: ijson builds one item at a time, JSON Lines are read line by line. Numbers come out
as ``int`` or ``Decimal`` (never ``float``), so prices keep their exact digits.

* A document that is not valid JSON stops the read with the parser's reason and where it was.
* ``items_path`` missing, or not a list: the read stops, naming what is there instead.
* An item that is not an object, or a JSON Line that is not valid JSON: that row is rejected.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

import ijson
from django.utils.translation import gettext as _

from genesys.outbound import text_excerpt
from procurement.feeds.errors import FeedReadError
from procurement.feeds.mapping import ItemError, RawItem, raw_excerpt
from procurement.feeds.options import JsonOptions

LINE_MAX_BYTES = 10 * 1024 * 1024
IJSON_BUFFER = 64 * 1024


def json_items_parse(*, file: IO[bytes], options: JsonOptions) -> Iterator[RawItem | ItemError]:
    """Yield the items of one JSON page (``RawItem``) or why one could not be used (``ItemError``)."""
    _bom_skip(file)
    if options.lines:
        yield from _lines_parse(file)
    else:
        yield from _document_parse(file, options.items_path)


def json_value_find(*, file: IO[bytes], path: str) -> Any:
    """The first value at dotted ``path`` in a JSON document (for next-page links), or None."""
    file.seek(0)
    _bom_skip(file)
    try:
        for value in ijson.items(file, path, use_float=False, buf_size=IJSON_BUFFER):
            return value
    except ijson.JSONError:
        return None
    return None


def _bom_skip(file: IO[bytes]) -> None:
    start = file.tell()
    if file.read(3) != codecs.BOM_UTF8:
        file.seek(start)


class _CountingReader:
    """Counts the bytes ijson has consumed, to say roughly where a syntax error is."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.offset += len(data)
        return data


def _document_parse(file: IO[bytes], items_path: str) -> Iterator[RawItem | ItemError]:
    start = file.tell()
    counting = _CountingReader(file)
    prefix = f"{items_path}.item" if items_path else "item"
    count = 0
    try:
        for value in ijson.items(counting, prefix, use_float=False, buf_size=IJSON_BUFFER):
            count += 1
            if isinstance(value, dict):
                yield RawItem(count, value)
            else:
                yield ItemError(
                    count,
                    _("the item is %(kind)s, not an object") % {"kind": _kind(value)},
                    {"value": json.dumps(value, ensure_ascii=False, default=str)[:200]},
                )
    except ijson.JSONError as exc:
        raise FeedReadError(_syntax_message(exc, counting.offset, count), phase="parse") from None
    if count == 0:
        file.seek(start)
        _shape_check(file, items_path)


def _syntax_message(exc: Exception, offset: int, count: int) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = lines[0].removeprefix("parse error: ") if lines else type(exc).__name__
    near = lines[1] if len(lines) > 1 and not lines[1].startswith("(right here)") else ""
    message = _("Malformed JSON: %(reason)s, after %(count)s items, within the first %(offset)s bytes") % {
        "reason": reason,
        "count": count,
        "offset": f"{offset:,}",
    }
    if near:
        message += _(", near: %(near)s") % {"near": text_excerpt(near, limit=80)}
    return message + "."


def _shape_check(file: IO[bytes], items_path: str) -> None:
    """No item was found: tell an empty list (fine) from a wrong ``items_path`` (an error)."""
    where = items_path or _("the document")
    top_keys: list[str] = []
    try:
        for prefix, event, value in ijson.parse(file, buf_size=IJSON_BUFFER):
            if prefix == "" and event == "map_key" and len(top_keys) < 20:
                top_keys.append(value)
            if prefix == items_path and event not in ("map_key", "end_map", "end_array"):
                if event == "start_array":
                    return
                kind = {"start_map": _("an object"), "null": _("null")}.get(event) or _kind(value)
                raise FeedReadError(
                    _("%(where)s is %(kind)s, not a list of items (format_options.items_path).")
                    % {"where": where, "kind": kind},
                    phase="parse",
                )
    except ijson.JSONError as exc:  # pragma: no cover - the first pass would have failed already
        raise FeedReadError(_syntax_message(exc, 0, 0), phase="parse") from None
    keys = ", ".join(top_keys) if top_keys else _("none")
    raise FeedReadError(
        _("%(path)s is not in the document (format_options.items_path); its top-level keys are: %(keys)s.")
        % {"path": items_path, "keys": keys},
        phase="parse",
    )


def _lines_parse(file: IO[bytes]) -> Iterator[RawItem | ItemError]:
    line = 0
    while True:
        raw = file.readline(LINE_MAX_BYTES + 1)
        if not raw:
            return
        line += 1
        if len(raw) > LINE_MAX_BYTES and not raw.endswith(b"\n"):
            while (rest := file.readline(LINE_MAX_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield ItemError(
                line, _("the line is longer than 10 MB"), {"line": raw[:200].decode("utf-8", "replace")}
            )
            continue
        if not raw.strip():
            continue
        try:
            value = json.loads(raw.strip(), parse_float=Decimal, parse_constant=_constant_refuse)
        except (ValueError, UnicodeDecodeError) as exc:
            reason = (
                _("%(msg)s at column %(col)s") % {"msg": exc.msg, "col": exc.colno}
                if isinstance(exc, json.JSONDecodeError)
                else _("not UTF-8 text")
                if isinstance(exc, UnicodeDecodeError)
                else str(exc)
            )
            yield ItemError(
                line,
                _("the line is not valid JSON: %(reason)s") % {"reason": reason},
                {"line": raw[:200].decode("utf-8", "replace").rstrip()},
            )
            continue
        if isinstance(value, dict):
            yield RawItem(line, value)
        else:
            yield ItemError(
                line,
                _("the line is %(kind)s, not an object") % {"kind": _kind(value)},
                raw_excerpt({"value": value}),
            )


def _constant_refuse(name: str) -> Any:
    raise ValueError(_("%(name)s is not a number JSON allows") % {"name": name})


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return _("true/false")
    if value is None:
        return _("null")
    if isinstance(value, int | Decimal | float):
        return _("a number")
    if isinstance(value, str):
        return _("a string")
    if isinstance(value, list):
        return _("a list")
    return _("an object")
