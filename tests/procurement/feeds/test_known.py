"""Unchanged feed items are recognised before mapping; anything that could differ is mapped."""

import random

import pytest

from procurement.feeds.known import KnownItems, SeenRow, profile_fingerprint
from procurement.feeds.mapping import MappedRow, RawItem
from procurement.feeds.reader import ReadStats, feed_read
from tests.support.feeds import CSV_PROFILE, csv_body, source_for

LINES = ("A1;5600000010075;Samsung;SM-1;Galaxy A55;342.16;3", "A2;5600000010082;LG;C4;OLED;999.00;1")


def read(feed_server, known, *lines):
    feed_server.route("/feed.csv", body=csv_body(*lines))
    return list(
        feed_read(
            source=source_for(feed_server.url("/feed.csv")),
            profile=CSV_PROFILE,
            stats=ReadStats(),
            known=known,
        )
    )


def fingerprints_of(rows):
    return {row.sku: row.raw_digest for row in rows}


def test_mapped_rows_carry_the_fingerprint_of_their_source_item(feed_server):
    rows = read(feed_server, KnownItems(profile=CSV_PROFILE, offers=[]), *LINES)
    assert [type(row) for row in rows] == [MappedRow, MappedRow]
    assert all(len(row.raw_digest) == 32 for row in rows)
    assert rows[0].raw_digest != rows[1].raw_digest


def test_known_items_come_out_seen_and_changed_ones_mapped(feed_server):
    first = fingerprints_of(read(feed_server, KnownItems(profile=CSV_PROFILE, offers=[]), *LINES))
    known = KnownItems(profile=CSV_PROFILE, offers=[(first["A1"], 11, "A1"), (first["A2"], 12, "A2")])
    rows = read(feed_server, known, LINES[0], LINES[1].replace("999.00", "949.00"))
    assert rows[0] == SeenRow(line=2, item_id=11)
    assert type(rows[1]) is MappedRow and rows[1].price == 949


def test_without_known_items_every_item_is_mapped_without_a_fingerprint(feed_server):
    rows = read(feed_server, None, *LINES)
    assert [row.raw_digest for row in rows] == ["", ""]


def test_the_fingerprint_depends_on_the_profile():
    other = {**CSV_PROFILE, "meta": "all"}
    assert profile_fingerprint(CSV_PROFILE) != profile_fingerprint(other)
    item = RawItem(2, {"sku": "A1", "price": "1"})
    assert KnownItems(profile=CSV_PROFILE, offers=[]).digest(item) != KnownItems(
        profile=other, offers=[]
    ).digest(item)


HEADER = ("sku", "price")


def csv_item(*fields, header=HEADER):
    return RawItem(2, header=header, fields=list(fields))


def test_a_csv_record_is_fingerprinted_from_its_fields_without_building_its_dict():
    known = KnownItems(profile=CSV_PROFILE, offers=[])
    item = csv_item("A1", "1")
    assert known.digest(item) == known.digest(csv_item("A1", "1", header=tuple(list(HEADER))))
    assert item._data is None  # an unchanged item is never mapped: its dict is never needed
    assert item.data == {"sku": "A1", "price": "1"}


def test_a_csv_fingerprint_changes_with_any_field_or_the_header():
    known = KnownItems(profile=CSV_PROFILE, offers=[])
    fingerprints = {
        known.digest(item)
        for item in (
            csv_item("A1", "1"),
            csv_item("A1", "2"),
            csv_item("A1", "1", ""),  # a blank field past the header
            csv_item("A1, 1"),  # one field holding what two held
            csv_item("A1", "1", header=("sku", "cost")),
            csv_item("A1", "1", header=("price", "sku")),
            csv_item("A1\x001"),  # a NUL inside a field is not a separator
            csv_item("A1\x00", "1"),
            csv_item("A1", "\x001"),
            csv_item("A1", "1\x00"),
            csv_item(),
            csv_item(""),
        )
    }
    assert len(fingerprints) == 12
    # The header hashed last changed between items; the hash followed it back.
    assert known.digest(csv_item("A1", "1")) == known.digest(csv_item("A1", "1"))


def test_an_item_is_its_data_or_a_header_and_fields_never_both_nor_half():
    for wrong in ({}, {"data": {"sku": "A1"}, "header": HEADER, "fields": ["A1", "1"]}, {"fields": ["A1"]}):
        with pytest.raises(TypeError):
            RawItem(2, **wrong)


def test_a_record_and_a_parsed_object_with_the_same_values_never_share_a_fingerprint():
    known = KnownItems(profile=CSV_PROFILE, offers=[])
    assert known.digest(csv_item("A1", "1")) != known.digest(RawItem(2, {"sku": "A1", "price": "1"}))


def test_an_item_is_taken_once_and_not_after_its_sku_was_mapped():
    known = KnownItems(profile=CSV_PROFILE, offers=[("ab" * 16, 7, "A1"), ("cd" * 16, 8, "A2")])
    assert known.take(bytes.fromhex("ab" * 16)) == 7
    assert known.take(bytes.fromhex("ab" * 16)) is None  # the same line again: mapped
    known.listed("A2")
    assert known.take(bytes.fromhex("cd" * 16)) is None  # A2 was already listed in this run


def test_known_items_in_any_order_are_found_and_a_shared_fingerprint_is_taken_once_per_offer():
    """The loader reads offers in fingerprint order; anything else is sorted, with the same result."""
    shared = "0f" * 16
    offers = [("ff" * 16, 1, "A"), (shared, 2, "B"), ("00" * 16, 3, "C"), (shared, 4, "D")]
    known = KnownItems(profile=CSV_PROFILE, offers=offers)
    assert len(known) == 4
    assert known.take(bytes.fromhex("ff" * 16)) == 1
    assert known.take(bytes.fromhex("00" * 16)) == 3
    assert sorted([known.take(bytes.fromhex(shared)), known.take(bytes.fromhex(shared))]) == [2, 4]
    assert known.take(bytes.fromhex(shared)) is None and len(known) == 0
    assert known.take(bytes.fromhex("ab" * 16)) is None


@pytest.mark.parametrize("count", [0, 1, 2, 3, 500])
def test_every_known_offer_is_found_once_whatever_bucket_it_falls_in(count):
    rnd = random.Random(count)
    fingerprints = [rnd.getrandbits(128) for _ in range(count)]
    if count > 2:  # the edges of the space, and first halves shared in full or in their top bits
        fingerprints[:3] = [0, 2**128 - 1, 5]
        fingerprints += [6, (2**64 - 1) << 64, ((2**64 - 1) << 64) | 1]
    offers = [(f"{f:032x}", n, f"S{n}") for n, f in enumerate(fingerprints)]
    known = KnownItems(profile=CSV_PROFILE, offers=offers[::-1])
    assert [known.take(f.to_bytes(16, "big")) for f in fingerprints] == list(range(len(fingerprints)))
    assert len(known) == 0
    assert known.take((7).to_bytes(16, "big")) is None


def test_the_run_remembers_which_offers_it_handed_on_as_seen_and_which_it_did_not():
    """The missing-offer step's candidates: the offers no line took as seen, and the others."""
    a, b, c = "ab" * 16, "cd" * 16, "ef" * 16
    known = KnownItems(profile=CSV_PROFILE, offers=[(a, 7, "A1"), (b, 8, "A2"), (c, 9, "A3")], others=[3, 12])
    assert known.take(bytes.fromhex(a)) == 7
    known.listed("A2")  # A2 was mapped earlier in the run: its unchanged line is mapped too
    assert known.take(bytes.fromhex(b)) is None
    assert known.seen(item_id=7, raw_hash=a)
    assert not known.seen(item_id=8, raw_hash=b)  # taken, but written: the writer's mark says so
    assert not known.seen(item_id=9, raw_hash=c)
    assert not known.seen(item_id=7, raw_hash=b) and not known.seen(item_id=7, raw_hash="not-hex")
    # 8 was mapped: a candidate still, which the writer's mark on it takes out.
    assert list(known.unlisted_ids()) == [3, 8, 9, 12]
