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

    ``file`` is left at position 0.
    """
    head = file.read(4)
    file.seek(0)
    if declared:
        name = codecs.lookup(declared).name
        # "utf-8" declared by the operator must still swallow an Excel BOM.
        return EncodingChoice("utf-8-sig" if name == "utf-8" else declared)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return EncodingChoice(encoding)
    offset = _first_invalid_utf8(file)
    file.seek(0)
    if offset is None:
        return EncodingChoice("utf-8")
    bad = _first_invalid(file, FALLBACK_ENCODING)
    file.seek(0)
    if bad is not None:
        raise FeedReadError(
            _(
                "%(source)s: the file is neither UTF-8 (bad byte at offset %(utf8)s) nor Windows-1252 "
                "(bad byte at offset %(cp1252)s); set format_options.encoding."
            )
            % {"source": source, "utf8": offset, "cp1252": bad},
            phase="parse",
        )
    return EncodingChoice(
        FALLBACK_ENCODING,
        warning=_(
            "%(source)s is not valid UTF-8 (first bad byte at offset %(offset)s); it was read as "
            "Windows-1252 (cp1252). Set format_options.encoding to say which encoding it uses."
        )
        % {"source": source, "offset": offset},
    )


def _first_invalid_utf8(file: IO[bytes]) -> int | None:
    return _first_invalid(file, "utf-8")


def _first_invalid(file: IO[bytes], encoding: str) -> int | None:
    """Byte offset of the first byte ``encoding`` cannot decode, or None; memory stays flat."""
    decoder = codecs.getincrementaldecoder(encoding)()
    position = 0
    while chunk := file.read(CHUNK_BYTES):
        # The decoder holds back the start of a multi-byte sequence cut by the chunk boundary;
        # an error's offset counts from those held-back bytes.
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return position - pending + exc.start
        position += len(chunk)
    pending = len(decoder.getstate()[0])
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return position - pending
    return None
