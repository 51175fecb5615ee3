"""Read a feed in a background thread, a bounded distance ahead of its consumer.

Downloading, parsing and mapping are Python work; writing a chunk is mostly waiting on the
database, which releases the GIL. Reading the next rows while the current chunk is written
overlaps the two. The queue is bounded, so at most ``depth`` batches wait in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from django.utils import translation

T = TypeVar("T")

_END = object()
_PUT_POLL_SECONDS = 0.2


def items_read_ahead(items: Iterable[T], *, batch: int = 1000, depth: int = 8) -> Iterator[list[T]]:
    """Yield ``items`` in lists of up to ``batch``, read by a thread up to ``depth`` lists ahead.

    An exception raised while reading reaches the consumer after the items read before it,
    exactly where a plain loop would have raised it. When the consumer stops early (an error
    of its own, or it simply closes the iterator), the reader stops at its next item.
    """
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()  # row messages are translated in the reader thread

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=_PUT_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        if language:
            translation.activate(language)
        pending: list[T] = []
        try:
            for item in items:
                pending.append(item)
                if len(pending) >= batch:
                    if not put(pending):
                        return
                    pending = []
            if put(pending):
                put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            if put(pending):
                put(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator: release its download now, in the thread that ran it

    reader = threading.Thread(target=read, name="feed-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            value = ready.get()
            if value is _END:
                break
            if isinstance(value, BaseException):
                raise value
            if value:
                yield value
    finally:
        stop.set()
    reader.join()
