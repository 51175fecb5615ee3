"""Compressed bodies recognised by their first bytes: gzip, and zip archives holding one feed.

``Content-Encoding`` is undone by ``requests`` while downloading; this handles the rest (a
``.csv.gz`` served as a plain file, a ``.zip`` export). Sizes are checked while decompressing, so
a small "zip bomb" cannot fill the disk.
"""

from __future__ import annotations

import tempfile
import zipfile
import zlib
from typing import IO

from django.utils.translation import gettext as _

from procurement.feeds.download import CHUNK_BYTES, SPOOL_MEMORY_BYTES, bytes_format
from procurement.feeds.errors import FeedReadError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # local file header; end of an empty archive
_IGNORED_MEMBERS = ("__MACOSX/",)


def body_unpack(*, file: IO[bytes], source: str, max_bytes: int) -> IO[bytes]:
    """The feed itself: ``file`` unchanged, or a new spooled file with the decompressed content.

    When a new file is returned, ``file`` has been closed.
    """
    head = file.read(4)
    file.seek(0)
    if head.startswith(GZIP_MAGIC):
        return _gunzip(file=file, source=source, max_bytes=max_bytes)
    if head in ZIP_MAGIC:
        return _unzip(file=file, source=source, max_bytes=max_bytes)
    return file


def _gunzip(*, file: IO[bytes], source: str, max_bytes: int) -> IO[bytes]:
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)
    # wbits 16 + MAX_WBITS: gzip framing; several concatenated members are read one after another.
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    in_member = False  # inside a gzip member that has not reached its end yet
    size = 0
    try:
        while chunk := file.read(CHUNK_BYTES):
            while chunk:
                in_member = True
                data = decompressor.decompress(chunk, CHUNK_BYTES)
                size += len(data)
                if size > max_bytes:
                    raise FeedReadError(_too_big(source, max_bytes), phase="download")
                out.write(data)
                chunk = decompressor.unconsumed_tail
                if decompressor.eof:  # several members may follow one another
                    chunk = decompressor.unused_data + chunk
                    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    in_member = False
        if in_member:
            out.write(decompressor.flush())
            if not decompressor.eof:
                raise zlib.error("truncated")
    except zlib.error:
        out.close()
        raise FeedReadError(
            _("%(source)s: the gzip data is damaged or cut short.") % {"source": source}, phase="download"
        ) from None
    except BaseException:
        out.close()
        raise
    file.close()
    out.seek(0)
    return out


def _unzip(*, file: IO[bytes], source: str, max_bytes: int) -> IO[bytes]:
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError):
        raise FeedReadError(
            _("%(source)s: the zip archive is damaged.") % {"source": source}, phase="download"
        ) from None
    with archive:
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith(_IGNORED_MEMBERS)
        ]
        if len(members) != 1:
            names = ", ".join(m.filename for m in members[:5]) + (", …" if len(members) > 5 else "")
            message = (
                _("%(source)s: the zip archive holds no file.") % {"source": source}
                if not members
                else _(
                    "%(source)s: the zip archive holds %(count)s files (%(names)s); it must hold exactly one."
                )
                % {"source": source, "count": len(members), "names": names}
            )
            raise FeedReadError(message, phase="download")
        member = members[0]
        if member.file_size > max_bytes:
            raise FeedReadError(_too_big(source, max_bytes), phase="download")
        out = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)
        size = 0
        try:
            with archive.open(member) as handle:
                while data := handle.read(CHUNK_BYTES):
                    size += len(data)
                    if size > max_bytes:  # the header can lie about the size
                        raise FeedReadError(_too_big(source, max_bytes), phase="download")
                    out.write(data)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            out.close()
            reason = _("encrypted") if isinstance(exc, RuntimeError) else _("damaged")
            raise FeedReadError(
                _("%(source)s: %(name)s in the zip archive cannot be read (%(reason)s).")
                % {"source": source, "name": member.filename, "reason": reason},
                phase="download",
            ) from None
        except BaseException:
            out.close()
            raise
    file.close()
    out.seek(0)
    return out


def _too_big(source: str, max_bytes: int) -> str:
    return _(
        "%(source)s decompresses to more than the limit of %(limit)s (format_options.max_bytes); stopped."
    ) % {"source": source, "limit": bytes_format(max_bytes)}
