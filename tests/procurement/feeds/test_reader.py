"""feed_read end to end: stats, partial reads, previews, bounded warnings, flat memory, the demo feeds."""

import dataclasses
import itertools
import json
import resource
import shutil
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from procurement.feeds.download import ReadLimit
from procurement.feeds.mapping import MappedRow, RowRejection
from procurement.feeds.reader import MAX_WARNINGS, FeedReadError, ReadStats, feed_read
from procurement.feeds.source import FeedSource
from tests.factories import FeedMapperFactory, SupplierFeedFactory
from tests.support.feed_server import chunks
from tests.support.feeds import CSV_PROFILE, csv_body, read_all, source_for

GTINS = ["5600000010075", "5600000010143", "5600000010211", "5600000010280", "5600000010358"]


def test_rows_come_with_stats(feed_server):
    body = csv_body("A1;5600000010075;LG;X;TV;1.5;2", "A2;;;;TV;1;1")
    feed_server.route("/feed.csv", body=body)
    result = read_all(source_for(feed_server.url("/feed.csv")))
    assert result.skus == ["A1"]
    assert [r.line for r in result.rejections] == [3]
    stats = result.stats
    assert (stats.rows_read, stats.pages_fetched, stats.bytes_downloaded) == (2, 1, len(body))
    assert stats.completed and stats.error == ""
    assert stats.download_seconds > 0 and stats.parse_seconds > 0


def test_a_fatal_error_comes_after_the_rows_read_so_far(feed_server):
    items = [{"sku": f"J{n}", "ean": GTINS[n], "price": 1, "stock": 1} for n in range(3)]
    body = json.dumps(items).encode()[:-30]  # cut inside the third item
    feed_server.route("/feed.json", body=body)
    stats = ReadStats()
    seen = []
    iterator = feed_read(
        source=source_for(feed_server.url("/feed.json"), format="json"),
        profile={"fields": {"sku": "sku", "gtin": "ean", "price": "price", "stock": "stock"}},
        stats=stats,
    )
    with pytest.raises(FeedReadError) as excinfo:
        for row in iterator:
            seen.append(row.sku)
    assert seen == ["J0", "J1"]
    assert excinfo.value.phase == "parse"
    assert stats.error == str(excinfo.value)
    assert stats.rows_read == 2
    assert not stats.completed


def test_max_rows_stops_early_without_an_error(feed_server):
    feed_server.route("/feed.csv", body=csv_body(*[f"A{n};{GTINS[n % 5]};LG;X;TV;1;1" for n in range(50)]))
    result = read_all(source_for(feed_server.url("/feed.csv")), max_rows=5)
    assert result.skus == ["A0", "A1", "A2", "A3", "A4"]
    assert result.error is None
    assert result.stats.rows_read == 5
    assert not result.stats.completed


def test_parse_time_excludes_the_consumers_time(feed_server):
    feed_server.route("/feed.csv", body=csv_body(*[f"A{n};{GTINS[n % 5]};LG;X;TV;1;1" for n in range(5)]))
    stats = ReadStats()
    slept = 0.0
    started = time.perf_counter()
    for _row in feed_read(source=source_for(feed_server.url("/feed.csv")), profile=CSV_PROFILE, stats=stats):
        began = time.perf_counter()
        time.sleep(0.2)  # a slow consumer (the ingest writing to the database)
        slept += time.perf_counter() - began
    elapsed = time.perf_counter() - started
    assert stats.completed
    # The consumer's time and the parse time are disjoint parts of the loop: no margin to guess.
    assert stats.parse_seconds + slept <= elapsed


def test_a_read_limit_stops_the_parse_too(feeds_root):
    """The preview's limit covers parsing, not only downloads (a file: source has no download)."""
    (feeds_root / "feed.csv").write_bytes(csv_body(*[f"A{n};{GTINS[n % 5]};LG;X;TV;1;1" for n in range(5)]))
    stats = ReadStats()
    passed = ReadLimit(at=time.monotonic() - 1, seconds=10, setting="FEED_PREVIEW_MAX_SECONDS")
    with pytest.raises(FeedReadError) as raised:
        list(feed_read(source=source_for("file:feed.csv"), profile=CSV_PROFILE, stats=stats, limit=passed))
    assert str(raised.value) == (
        "The read took longer than 10 s (FEED_PREVIEW_MAX_SECONDS); it stopped after 0 rows."
    )
    assert not stats.completed


def test_an_invalid_profile_is_reported_before_any_download(feed_server):
    result = read_all(source_for(feed_server.url("/feed.csv")), {"fields": {"sku": "sku"}})
    assert str(result.error) == (
        "The mapper profile is invalid: fields.price: required; fields.stock: required; "
        "fields: map gtin, or partnumber (with brand), so that products can be identified"
    )
    assert result.error.phase == "parse"
    assert feed_server.requests == []


def test_invalid_format_options_are_reported_before_any_download(feed_server):
    result = read_all(
        source_for(feed_server.url("/feed.csv"), format_options={"delimeter": ";", "max_bytes": 0})
    )
    assert str(result.error).startswith(
        "The feed settings are invalid: format_options.delimeter: unknown option for csv feeds; "
        "the options are "
    )
    assert "format_options.max_bytes: must be at least 1" in str(result.error)
    assert feed_server.requests == []


def test_feed_warnings_are_deduplicated_and_bounded():
    stats = ReadStats()
    for n in range(MAX_WARNINGS + 30):
        stats.warning_add(f"warning {n}")
        stats.warning_add(f"warning {n}")
    assert len(stats.warnings) == MAX_WARNINGS + 1
    assert stats.warnings[-1] == "… and 30 more warnings."


def test_stats_serialise_to_the_documented_fields():
    stats = ReadStats()
    stats.warning_add("x")
    data = dataclasses.asdict(stats)
    assert list(data) == [
        "bytes_downloaded",
        "pages_fetched",
        "rows_read",
        "download_seconds",
        "parse_seconds",
        "warnings",
        "completed",
        "error",
    ]
    json.dumps(data)


def test_a_feed_source_is_a_snapshot_of_the_model(db):
    feed = SupplierFeedFactory(
        source_url=" https://x.example/feed.json ",
        format="json",
        format_options={"items_path": "data"},
        auth_type="bearer",
        auth_settings={"token_env": "X_TOKEN"},
        pagination={"type": "page"},
    )
    source = FeedSource.from_feed(feed)
    feed.format_options["items_path"] = "changed"
    assert source.url == "https://x.example/feed.json"
    assert source.format_options == {"items_path": "data"}
    assert (source.auth_type, source.auth_settings, source.pagination) == (
        "bearer",
        {"token_env": "X_TOKEN"},
        {"type": "page"},
    )
    assert (source.feed_id, source.label) == (feed.pk, str(feed))


def current_rss_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@pytest.mark.slow
def test_memory_stays_flat_on_a_large_feed(feed_server):
    """200,000 rows generated on the fly by the server (never stored) stream through in flat memory."""
    rows = 200_000

    def generated(request):
        line = "S{n:07d};Brand {b};PN-{n:07d};Product {n} with a longish name;{p}.99;{s}\n"
        lines = (line.format(n=n, b=n % 50, p=n % 997, s=n % 40) for n in range(rows))
        # Lazily: the first byte leaves before the second row exists (a list would build 200,000).
        return chunks(itertools.chain(["sku;brand;mpn;name;price;stock\n"], lines))

    feed_server.route("/big.csv", body=generated)
    # A lean profile keeps the test quick; memory behaviour does not depend on the fields mapped.
    fields = {"sku": "sku", "brand": "brand", "partnumber": "mpn", "price": "price", "stock": "stock"}
    profile = {"fields": fields, "meta": "none"}
    stats = ReadStats()
    baseline = current_rss_kb()
    peak = baseline
    valid = 0
    # A busy machine may starve the server thread for a while: patience, not a race.
    source = source_for(feed_server.url("/big.csv"), format_options={"timeout": 120})
    for n, row in enumerate(feed_read(source=source, profile=profile, stats=stats)):
        valid += type(row) is MappedRow
        if n % 20_000 == 0:
            peak = max(peak, current_rss_kb())
    assert stats.completed, stats.error
    assert valid == rows
    assert stats.bytes_downloaded > 12_000_000  # far more than the growth allowed below
    # Streaming grows by ~4 MB; holding the 13 MB body in memory (an unspooled page) already fails.
    assert (peak - baseline) < 12_000, f"RSS grew by {(peak - baseline) / 1024:.0f} MB"


class TestDemoFeeds:
    """The demo's file feeds read cleanly with their demo mappers (the API one: test_demo_server)."""

    @pytest.fixture
    def demo(self, feeds_root):
        for relative in ("distrilusa/tarifa.csv", "euroelectro/google-merchant.xml"):
            target = feeds_root / "demo" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(settings.BASE_DIR / "demo" / "feeds" / relative, target)
        config = json.loads((settings.BASE_DIR / "demo" / "suppliers.json").read_text())
        return {s["name"]: s["feeds"][0] for s in config["suppliers"]}

    def read(self, feed):
        source = FeedSource(
            url=feed["source_url"],
            format=feed["format"],
            format_options=feed["format_options"],
            pagination=feed["pagination"],
        )
        return read_all(source, feed["mapper"]["profile"])

    def test_distrilusa_csv(self, demo):
        result = self.read(demo["Distrilusa"])
        assert result.error is None and result.stats.completed
        assert len(result.rows) == 29 and result.rejections == [] and result.stats.warnings == []
        row = result.row("DL00013")
        assert (row.price, row.stock, row.category) == (
            Decimal("1171.9800"),
            50,
            ("Imagem e Som", "Televisores"),
        )
        assert row.meta == {"Garantia": "3 anos", "Classe Energetica": "D"}
        assert result.row("DL00004").stock == 0  # "Não"
        assert result.row("DL00009").gtin is None  # no EAN: identified by brand + part number

    def test_euroelectro_google_merchant(self, demo):
        result = self.read(demo["EuroElectro"])
        assert result.error is None and result.stats.completed
        assert len(result.rows) == 20 and result.rejections == []
        row = result.row("EE-0001")
        assert (row.price, row.stock, row.meta) == (Decimal("325.7100"), 3, {"g:condition": "new"})
        assert {r.stock for r in result.rows} == {0, 3}  # preorder and out of stock are 0


def test_the_preview_reads_the_active_mapper_of_a_saved_feed(db, feeds_root):
    (feeds_root / "feed.csv").write_bytes(csv_body("A1;5600000010075;LG;X;TV;1;1"))
    mapper = FeedMapperFactory(feed=SupplierFeedFactory(source_url="file:feed.csv"), profile=CSV_PROFILE)
    stats = ReadStats()
    rows = list(feed_read(source=FeedSource.from_feed(mapper.feed), profile=mapper.profile, stats=stats))
    assert [type(row) for row in rows] == [MappedRow]
    assert not any(isinstance(row, RowRejection) for row in rows)
