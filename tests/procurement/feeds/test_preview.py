"""Preview: the first rows of a saved feed with every problem, from Python and from manage.py."""

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from procurement.feeds.preview import feed_preview
from procurement.models import FeedRun, SupplierItem
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory
from tests.support.feeds import CSV_PROFILE, csv_body

pytestmark = pytest.mark.django_db

BODY = csv_body(
    "A1;5600000010075;Samsung;SM-A556B;<b>Galaxy</b> A55;342.16;3",
    "A2;5600000010143;LG;X;TV;-3.00;1",
    "A3;4006381333932;Bosch;WAN28282ES;Washer;406.98;2",
    "A4;5600000010211;LG;Y;Soundbar;99;4",
)


@pytest.fixture
def feed(feeds_root):
    (feeds_root / "tarifa.csv").write_bytes(BODY)
    supplier = SupplierFactory(name="Distrilusa")
    feed = SupplierFeedFactory(supplier=supplier, name="Tarifa", source_url="file:tarifa.csv")
    FeedMapperFactory(feed=feed, profile=CSV_PROFILE)
    return feed


def test_the_preview_shows_rows_rejections_and_warnings_and_writes_nothing(feed):
    preview = feed_preview(feed=feed, rows=3)
    assert preview.mapper_name == "default"
    assert [row.sku for row in preview.rows] == ["A1", "A3"]
    assert [(r.line, r.reason) for r in preview.rejections] == [(3, 'price: "-3.00" is negative')]
    assert [r.line for r in preview.results] == [2, 3, 4]
    assert preview.row_warnings == [
        (4, 'gtin "4006381333932": check digit does not match; using brand + part number')
    ]
    assert preview.error == ""
    assert preview.stats.rows_read == 3
    assert FeedRun.objects.count() == 0 and SupplierItem.objects.count() == 0


def test_a_feed_without_an_active_mapper_says_so(feeds_root):
    preview = feed_preview(feed=SupplierFeedFactory())
    assert preview.error == "This feed has no active mapper; add one (see docs/mappers.md)."
    assert preview.rows == []


def test_an_unsaved_profile_can_be_previewed(feed):
    profile = {**CSV_PROFILE, "fields": {**CSV_PROFILE["fields"], "name": {"constant": "X"}}}
    preview = feed_preview(feed=feed, profile=profile)
    assert {row.name for row in preview.rows} == {"X"}
    assert preview.mapper_name == ""


def test_a_read_error_is_part_of_the_preview(feed, feeds_root):
    (feeds_root / "tarifa.csv").write_bytes(BODY + b'A5;5600000010280;LG;Z;"open quote;1;1\n')
    preview = feed_preview(feed=feed, rows=50)
    assert len(preview.rows) == 3
    assert (
        preview.error
        == "Line 6: a quoted field is never closed (unterminated quote); the read stopped there."
    )


class TestCommand:
    def run(self, *args):
        out = StringIO()
        call_command("preview_feed", *args, stdout=out)
        return out.getvalue()

    def test_prints_a_table_rejections_and_warnings(self, feed):
        output = self.run("Distrilusa/Tarifa", "--rows", "20")
        lines = output.splitlines()
        assert lines[0] == 'Distrilusa / Tarifa — mapper "default"'
        assert lines[1].startswith("4 rows read: 3 valid, 1 rejected; 1 page(s), ")
        assert lines[3].split() == [
            "line",
            "sku",
            "price",
            "stock",
            "gtin",
            "brand",
            "partnumber",
            "name",
            "category",
        ]
        assert lines[4].split()[:7] == ["2", "A1", "342.1600", "3", "05600000010075", "Samsung", "SM-A556B"]
        assert "Galaxy A55" in lines[4]
        assert "Rejected rows:" in output
        assert '  line 3: price: "-3.00" is negative' in lines
        assert "Row warnings:" in output
        assert (
            '  line 4: gtin "4006381333932": check digit does not match; using brand + part number' in lines
        )

    def test_rows_above_the_preview_cap_say_so(self, feed):
        output = self.run(str(feed.pk), "--rows", "2000")
        assert "A preview reads at most 500 rows; 2000 were asked for." in output
        assert "A preview reads at most" not in self.run(str(feed.pk), "--rows", "500")

    def test_finds_the_feed_by_id(self, feed):
        assert "A1" in self.run(str(feed.pk), "--rows", "1")

    def test_json_lines(self, feed):
        output = self.run(str(feed.pk), "--json")
        rows = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert [row["sku"] for row in rows] == ["A1", "A3", "A4"]
        assert rows[0]["price"] == "342.1600"
        assert rows[0]["category"] == []

    def test_a_profile_file(self, feed, tmp_path):
        path = tmp_path / "profile.json"
        path.write_text(
            json.dumps({"fields": {"sku": "sku", "gtin": "ean", "price": "price", "stock": "nope"}})
        )
        with pytest.raises(CommandError, match=r'The CSV header lacks column "nope" \(fields.stock\)'):
            self.run(str(feed.pk), "--profile", str(path))

    def test_an_unknown_feed(self, db):
        with pytest.raises(
            CommandError,
            match=re.escape('No feed "Nobody/Nothing"; give its id or "Supplier name/Feed name".'),
        ):
            self.run("Nobody/Nothing")

    def test_a_read_error_fails_the_command_after_printing_the_rows(self, feed, feeds_root):
        (feeds_root / "tarifa.csv").write_bytes(BODY + b'A5;5600000010280;LG;Z;"open quote;1;1\n')
        out = StringIO()
        with pytest.raises(CommandError, match="unterminated quote"):
            call_command("preview_feed", str(feed.pk), stdout=out)
        assert "A4" in out.getvalue()


def test_the_command_takes_a_time_limit(feed_server):
    feed_server.route("/feed.csv", hold=True)
    feed = SupplierFeedFactory(
        supplier=SupplierFactory(name="Slow"),
        name="Hanging",
        source_url=feed_server.url("/feed.csv"),
        format_options={"delimiter": ";", "timeout": 60},
    )
    FeedMapperFactory(feed=feed, profile=CSV_PROFILE)
    with pytest.raises(CommandError) as raised:
        call_command("preview_feed", str(feed.pk), "--max-seconds", "0.5", stdout=StringIO())
    assert str(raised.value).startswith(
        f"{feed_server.url('/feed.csv')}: the download took longer than 0.5 s (FEED_PREVIEW_MAX_SECONDS)."
    )
