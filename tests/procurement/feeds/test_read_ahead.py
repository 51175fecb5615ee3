"""Reading a feed ahead of the writer: same items, same order, same errors, bounded, stoppable."""

import threading
import time

import pytest
from django.utils import translation

from procurement.feeds.errors import FeedReadError
from procurement.feeds.read_ahead import items_read_ahead


def test_items_arrive_in_order_in_batches():
    batches = list(items_read_ahead(iter(range(10)), batch=4))
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_an_empty_feed_yields_nothing():
    assert list(items_read_ahead(iter([]), batch=4)) == []


def test_a_read_error_arrives_after_the_items_read_before_it():
    def items():
        yield from range(5)
        raise FeedReadError("page 2: HTTP 500", phase="download")

    seen = []
    with pytest.raises(FeedReadError, match="page 2: HTTP 500"):
        for batch in items_read_ahead(items(), batch=2):
            seen.extend(batch)
    assert seen == [0, 1, 2, 3, 4]


def test_the_reader_stays_a_bounded_distance_ahead():
    produced = []

    def items():
        for n in range(1000):
            produced.append(n)
            yield n

    reader = items_read_ahead(items(), batch=10, depth=2)
    assert next(reader) == list(range(10))
    time.sleep(0.3)
    # One batch handed over, two waiting in the queue, one being filled: never the whole feed.
    assert len(produced) <= 10 * 4 + 1
    reader.close()


def test_a_consumer_that_stops_stops_the_reader_and_closes_the_feed():
    closed = threading.Event()

    def items():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    reader = items_read_ahead(items(), batch=5, depth=1)
    next(reader)
    reader.close()
    assert closed.wait(timeout=30), "the feed was not closed after the consumer stopped"


def test_row_messages_are_translated_in_the_operators_language():
    def items():
        yield translation.get_language()

    with translation.override("pt-pt"):
        assert list(items_read_ahead(items())) == [["pt-pt"]]


def test_the_gil_switch_interval_is_short_while_reading_ahead_and_restored_after():
    """The writer's statements wait on the database; a busy reader must hand the GIL back soon."""
    import sys

    before = sys.getswitchinterval()
    seen = [sys.getswitchinterval() for _ in items_read_ahead(iter(range(3)), batch=1)]
    assert seen and all(interval <= 0.00005 for interval in seen)  # 50 µs (bench/ingest.py)
    assert sys.getswitchinterval() == before
    reader = items_read_ahead(iter(range(10)), batch=1)
    next(reader)
    reader.close()  # a consumer that stops early restores it too
    assert sys.getswitchinterval() == before
