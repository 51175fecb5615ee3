"""Compressed feeds: gzip (declared or recognised by content) and a zip holding one file."""

import gzip
import io
import zipfile
import zlib

import pytest

from tests.support.feeds import csv_body, read_all, source_for

GOOD = csv_body("A1;5600000010075;Samsung;SM-1;Phone;10,50;3", "A2;;Bosch;WAN28282ES;Washer;406,98;0")
PROFILE = {
    "fields": {
        "sku": "sku",
        "gtin": "ean",
        "brand": "brand",
        "partnumber": "mpn",
        "price": {"source": "price", "transforms": [{"type": "decimal", "decimal_separator": ","}]},
        "stock": "stock",
    },
    "meta": "none",
}


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_content_encoding_gzip_is_undone(feed_server):
    feed_server.route("/feed.csv", body=gzip.compress(GOOD), headers={"Content-Encoding": "gzip"})
    result = read_all(source_for(feed_server.url("/feed.csv")), PROFILE)
    assert result.skus == ["A1", "A2"]
    assert result.stats.bytes_downloaded < len(GOOD) + 40  # what travelled, compressed


def test_content_encoding_deflate_is_undone(feed_server):
    feed_server.route("/feed.csv", body=zlib.compress(GOOD), headers={"Content-Encoding": "deflate"})
    assert read_all(source_for(feed_server.url("/feed.csv")), PROFILE).skus == ["A1", "A2"]


def test_a_gzip_file_is_recognised_by_its_content(feed_server):
    feed_server.route(
        "/feed.csv.gz", body=gzip.compress(GOOD), headers={"Content-Type": "application/octet-stream"}
    )
    assert read_all(source_for(feed_server.url("/feed.csv.gz")), PROFILE).skus == ["A1", "A2"]


def test_a_gzip_file_under_feeds_root_is_read(feeds_root):
    (feeds_root / "feed.csv.gz").write_bytes(gzip.compress(GOOD))
    assert read_all(source_for("file:feed.csv.gz"), PROFILE).skus == ["A1", "A2"]


def test_concatenated_gzip_members_are_all_read(feed_server):
    lines = GOOD.split(b"\n", 2)
    body = gzip.compress(lines[0] + b"\n" + lines[1] + b"\n") + gzip.compress(lines[2])
    feed_server.route("/feed.csv.gz", body=body)
    assert read_all(source_for(feed_server.url("/feed.csv.gz")), PROFILE).skus == ["A1", "A2"]


def test_a_broken_gzip_body_is_a_clear_error(feed_server):
    damaged = gzip.compress(GOOD)[:-12] + b"\x00" * 4
    feed_server.route("/feed.csv.gz", body=damaged)
    result = read_all(source_for(feed_server.url("/feed.csv.gz")), PROFILE)
    assert str(result.error) == f"{feed_server.url('/feed.csv.gz')}: the gzip data is damaged or cut short."
    assert result.error.phase == "download"


def test_a_truncated_gzip_body_is_a_clear_error(feed_server):
    whole = gzip.compress(GOOD * 50)
    feed_server.route("/feed.csv.gz", body=whole[: len(whole) // 2])
    result = read_all(source_for(feed_server.url("/feed.csv.gz")), PROFILE)
    assert str(result.error).endswith("the gzip data is damaged or cut short.")
    assert result.rows == []


def test_a_broken_gzip_content_encoding_is_a_clear_error(feed_server):
    feed_server.route(
        "/feed.csv", body=b"\x1f\x8bnot really gzip at all", headers={"Content-Encoding": "gzip"}
    )
    result = read_all(source_for(feed_server.url("/feed.csv")), PROFILE)
    assert str(result.error) == (
        f"{feed_server.url('/feed.csv')}: the body cannot be decompressed (Content-Encoding gzip); "
        "it is damaged."
    )


def test_a_zip_with_one_file_is_read(feed_server):
    feed_server.route("/feed.zip", body=zipped({"export/tarifa.csv": GOOD}))
    assert read_all(source_for(feed_server.url("/feed.zip")), PROFILE).skus == ["A1", "A2"]


def test_macos_metadata_in_a_zip_is_ignored(feed_server):
    feed_server.route("/feed.zip", body=zipped({"tarifa.csv": GOOD, "__MACOSX/._tarifa.csv": b"junk"}))
    assert read_all(source_for(feed_server.url("/feed.zip")), PROFILE).skus == ["A1", "A2"]


def test_a_zip_with_several_files_is_refused(feed_server):
    feed_server.route("/feed.zip", body=zipped({"a.csv": GOOD, "b.csv": GOOD}))
    result = read_all(source_for(feed_server.url("/feed.zip")), PROFILE)
    assert str(result.error) == (
        f"{feed_server.url('/feed.zip')}: the zip archive holds 2 files (a.csv, b.csv); "
        "it must hold exactly one."
    )


def test_an_empty_zip_is_refused(feed_server):
    feed_server.route("/feed.zip", body=zipped({}))
    result = read_all(source_for(feed_server.url("/feed.zip")), PROFILE)
    assert str(result.error) == f"{feed_server.url('/feed.zip')}: the zip archive holds no file."


def test_a_damaged_zip_is_refused(feed_server):
    feed_server.route("/feed.zip", body=zipped({"a.csv": GOOD * 20})[:60])
    result = read_all(source_for(feed_server.url("/feed.zip")), PROFILE)
    assert str(result.error) == f"{feed_server.url('/feed.zip')}: the zip archive is damaged."


@pytest.mark.parametrize("kind", ["gzip", "zip"])
def test_decompression_is_bounded_by_max_bytes(feed_server, kind):
    big = csv_body(*["X;;;;;1;1"] * 50_000)  # ~500 KB that compresses to a few KB
    body = gzip.compress(big) if kind == "gzip" else zipped({"feed.csv": big})
    assert len(body) < 20_000
    feed_server.route("/feed", body=body)
    result = read_all(source_for(feed_server.url("/feed"), format_options={"max_bytes": 100_000}), PROFILE)
    assert str(result.error) == (
        f"{feed_server.url('/feed')} decompresses to more than the limit of 97.6562 KB "
        "(format_options.max_bytes); stopped."
    )
