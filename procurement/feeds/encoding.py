"""Which text encoding to read a CSV page with, decided before parsing starts.

Excel and many ERPs in Portugal still export Windows-1252. Guessing per line would mix encodings
inside one file, so the whole page is checked first with one incremental UTF-8 pass (it costs one
extra sequential read of a file that is already on local disk); only if it is not valid UTF-8 is
the page read as cp1252, and the run records a warning.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _

from procurement.feeds.download import CHUNK_BYTES
from procurement.feeds.errors import FeedReadError

FALLBACK_ENCODING = "cp1252"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True, slots=True)
class EncodingChoice:
    encoding: str  # a codec name for io.TextIOWrapper
    warning: str = ""  # set when we fell back to cp1252


def text_encoding_choose(*, file: IO[bytes], declared: str, source: str) -> EncodingChoice:
    """The declared encoding (BOM-aware for UTF-8), else UTF-8 or a BOM's, else cp1252 with a warning.

    The whole page is checked against the chosen encoding before any row is parsed, so a wrong
    encoding stops the read with the line of the first bad byte instead of half-way through.
    ``file`` is left at position 0.
    """
    head = file.read(4)
    file.seek(0)
    if declared:
        name = codecs.lookup(declared).name
        # "utf-8" declared by the operator must still swallow an Excel BOM.
        encoding = "utf-8-sig" if name == "utf-8" else declared
        bad = _first_invalid(file, encoding)
        file.seek(0)
        if bad is not None:
            raise FeedReadError(
                _(
                    "Line %(line)s: the bytes are not valid %(encoding)s (offset %(offset)s); "
                    "check format_options.encoding."
                )
                % {"line": bad.line, "encoding": declared, "offset": bad.offset},
                phase="parse",
            )
        return EncodingChoice(encoding)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return EncodingChoice(encoding)
    not_utf8 = _first_invalid(file, "utf-8")
    file.seek(0)
    if not_utf8 is None:
        return EncodingChoice("utf-8")
    not_cp1252 = _first_invalid(file, FALLBACK_ENCODING)
    file.seek(0)
    if not_cp1252 is not None:
        raise FeedReadError(
            _(
                "%(source)s: the file is neither UTF-8 (bad byte on line %(utf8)s) nor Windows-1252 "
                "(bad byte on line %(cp1252)s); set format_options.encoding."
            )
            % {"source": source, "utf8": not_utf8.line, "cp1252": not_cp1252.line},
            phase="parse",
        )
    return EncodingChoice(
        FALLBACK_ENCODING,
        warning=_(
            "%(source)s is not valid UTF-8 (first bad byte on line %(line)s); it was read as "
            "Windows-1252 (cp1252). Set format_options.encoding to say which encoding it uses."
        )
        % {"source": source, "line": not_utf8.line},
    )


@dataclass(frozen=True, slots=True)
class BadByte:
    offset: int  # from the start of the page
    line: int  # 1-based (counting b"\n", exact for ASCII-compatible encodings)


def _first_invalid(file: IO[bytes], encoding: str) -> BadByte | None:
    """Where ``encoding`` first fails to decode ``file``, or None; memory stays flat."""
    decoder = codecs.getincrementaldecoder(encoding)()
    position = 0
    lines = 1
    while chunk := file.read(CHUNK_BYTES):
        # The decoder holds back the start of a multi-byte sequence cut by the chunk boundary;
        # an error's offset counts from those held-back bytes.
        pending = decoder.getstate()[0]
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            offset = position - len(pending) + exc.start
            return BadByte(offset, lines - pending.count(b"\n") + (pending + chunk)[: exc.start].count(b"\n"))
        position += len(chunk)
        lines += chunk.count(b"\n")
    pending = decoder.getstate()[0]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return BadByte(position - len(pending), lines - pending.count(b"\n"))
    return None
