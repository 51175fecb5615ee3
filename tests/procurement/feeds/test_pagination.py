"""Pagination: every type walks the pages and stops at the right one; loops and overflows are errors."""

import json

import pytest

from tests.support.feed_server import Reply
from tests.support.feeds import read_all, source_for

PROFILE = {"fields": {"sku": "sku", "gtin": "ean", "price": "price", "stock": "stock"}, "meta": "none"}
GTINS = ["5600000010075", "5600000010143", "5600000010211", "5600000010280", "5600000010358"]


def products(first: int, count: int) -> list[dict]:
    return [
        {"sku": f"P{n}", "ean": GTINS[n % 5], "price": "1.00", "stock": 1}
        for n in range(first, first + count)
    ]


def json_page(items: list[dict], **extra) -> bytes:
    return json.dumps({"data": items, **extra}).encode()


def json_source(url: str, pagination: dict, **options):
    return source_for(
        url, format="json", format_options={"items_path": "data", **options}, pagination=pagination
    )


def test_page_numbers_stop_on_a_short_page(feed_server):
    def pages(request):
        page, size = int(request.query["page"]), int(request.query["per_page"])
        return json_page(products((page - 1) * size, 3 if page < 3 else 1))

    feed_server.route("/api", body=pages)
    result = read_all(
        json_source(
            feed_server.url("/api"), {"type": "page", "param": "page", "size_param": "per_page", "size": 3}
        ),
        PROFILE,
    )
    assert result.error is None
    assert result.skus == [f"P{n}" for n in range(7)]
    assert [r.query for r in feed_server.requests] == [
        {"page": "1", "per_page": "3"},
        {"page": "2", "per_page": "3"},
        {"page": "3", "per_page": "3"},
    ]
    assert result.stats.pages_fetched == 3
    assert result.stats.completed


def test_page_numbers_without_a_size_stop_on_an_empty_page(feed_server):
    feed_server.route("/api", body=lambda r: json_page(products(0, 2) if r.query["p"] == "0" else []))
    result = read_all(
        json_source(feed_server.url("/api"), {"type": "page", "param": "p", "start": 0}), PROFILE
    )
    assert result.skus == ["P0", "P1"]
    assert [r.query["p"] for r in feed_server.requests] == ["0", "1"]


def test_the_page_parameter_replaces_one_already_in_the_url(feed_server):
    feed_server.route("/api", body=lambda r: json_page(products(0, 1) if r.query["page"] == "1" else []))
    read_all(json_source(feed_server.url("/api?page=9&lang=pt"), {"type": "page"}), PROFILE)
    assert [r.query for r in feed_server.requests] == [
        {"lang": "pt", "page": "1"},
        {"lang": "pt", "page": "2"},
    ]


def test_offset_and_limit_stop_on_a_short_page(feed_server):
    def pages(request):
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        return json_page(products(offset, min(limit, 5 - offset)))

    feed_server.route("/api", body=pages)
    result = read_all(json_source(feed_server.url("/api"), {"type": "offset", "limit": 2}), PROFILE)
    assert result.skus == ["P0", "P1", "P2", "P3", "P4"]
    assert [r.query["offset"] for r in feed_server.requests] == ["0", "2", "4"]


def test_offset_stops_on_an_empty_page_when_the_total_is_a_multiple(feed_server):
    feed_server.route(
        "/api",
        body=lambda r: json_page(products(int(r.query["offset"]), 2 if r.query["offset"] < "4" else 0)),
    )
    result = read_all(json_source(feed_server.url("/api"), {"type": "offset", "limit": 2}), PROFILE)
    assert len(result.skus) == 4
    assert len(feed_server.requests) == 3


def test_a_next_link_in_the_body_is_followed_until_it_is_missing(feed_server):
    feed_server.route("/api", body=json_page(products(0, 2), links={"next": "/api/2?cursor=abc"}))
    feed_server.route("/api/2", body=json_page(products(2, 2), links={"next": feed_server.url("/api/3")}))
    feed_server.route("/api/3", body=json_page(products(4, 1), links={"next": None}))
    result = read_all(
        json_source(feed_server.url("/api"), {"type": "next_link", "path": "links.next"}), PROFILE
    )
    assert result.skus == ["P0", "P1", "P2", "P3", "P4"]
    assert [r.target for r in feed_server.requests] == ["/api", "/api/2?cursor=abc", "/api/3"]
    assert result.stats.completed


def test_a_link_header_is_followed_until_there_is_no_next(feed_server):
    feed_server.route(
        "/api", body=json_page(products(0, 2)), headers={"Link": '</api/2>; rel="next", </api/9>; rel="last"'}
    )
    feed_server.route("/api/2", body=json_page(products(2, 2)), headers={"Link": '</api>; rel="first"'})
    result = read_all(json_source(feed_server.url("/api"), {"type": "link_header"}), PROFILE)
    assert result.skus == ["P0", "P1", "P2", "P3"]
    assert len(feed_server.requests) == 2


def test_pagination_works_for_csv_pages_too(feed_server):
    header = "sku;ean;price;stock\n"
    rows = {"1": "C1;5600000010075;1;1\nC2;5600000010143;1;1\n", "2": "C3;5600000010211;1;1\n"}
    feed_server.route("/feed.csv", body=lambda r: (header + rows.get(r.query["page"], "")).encode())
    result = read_all(
        source_for(feed_server.url("/feed.csv"), pagination={"type": "page", "size_param": "n", "size": 2}),
        PROFILE,
    )
    assert result.skus == ["C1", "C2", "C3"]
    assert [row.line for row in result.rows] == [2, 3, 5]  # lines continue after the previous page


def test_a_page_that_repeats_forever_is_an_error_not_an_endless_loop(feed_server):
    feed_server.route("/api", body=json_page(products(0, 2)))  # the server ignores ?page=
    result = read_all(json_source(feed_server.url("/api"), {"type": "page", "size": 2}), PROFILE)
    assert len(feed_server.requests) == 2
    assert result.skus == ["P0", "P1"]  # the first page was read, and only once
    assert str(result.error) == (
        f"Page 2 is identical to page 1 ({feed_server.url('/api?page=2')}): the server ignores the "
        "pagination settings, so the read stopped instead of looping."
    )
    assert not result.stats.completed


def test_more_pages_than_max_pages_is_an_error(feed_server):
    feed_server.route("/api", body=lambda r: json_page(products(int(r.query["page"]) * 10, 2)))
    result = read_all(
        json_source(feed_server.url("/api"), {"type": "page", "size": 2, "max_pages": 3}), PROFILE
    )
    assert len(feed_server.requests) == 3
    assert len(result.rows) == 6
    assert str(result.error) == (
        "The feed has more than 3 pages (pagination.max_pages); the read stopped there. "
        "Raise max_pages if the feed really is that long."
    )
    assert not result.stats.completed


def test_exactly_max_pages_is_fine(feed_server):
    sizes = {"1": 2, "2": 2, "3": 1}
    feed_server.route(
        "/api", body=lambda r: json_page(products(int(r.query["page"]) * 2, sizes[r.query["page"]]))
    )
    result = read_all(
        json_source(feed_server.url("/api"), {"type": "page", "size": 2, "max_pages": 3}), PROFILE
    )
    assert result.error is None
    assert result.stats.completed


def test_an_empty_body_after_the_first_page_ends_the_feed(feed_server):
    feed_server.route(
        "/api",
        body=lambda r: json_page(products(0, 2)) if r.query["page"] == "1" else Reply(status=204, body=b""),
    )
    result = read_all(json_source(feed_server.url("/api"), {"type": "page"}), PROFILE)
    assert result.skus == ["P0", "P1"]
    assert result.stats.completed


def test_a_failure_on_a_later_page_keeps_the_rows_already_read(feed_server):
    feed_server.route(
        "/api", body=lambda r: json_page(products(0, 2)) if r.query["page"] == "1" else Reply(status=404)
    )
    result = read_all(json_source(feed_server.url("/api"), {"type": "page", "size": 2}), PROFILE)
    assert result.skus == ["P0", "P1"]
    assert str(result.error).startswith("HTTP 404 Not Found")
    assert result.stats.error == str(result.error)


@pytest.mark.parametrize(
    ("pagination", "message"),
    [
        ({"type": "pages"}, 'pagination.type: unknown type "pages"'),
        ({"type": "page", "per_page": 10}, 'pagination.per_page: unknown setting for "page" pagination'),
        ({"type": "next_link"}, "pagination.path: is required"),
        ({"type": "offset", "limit": 0}, "pagination.limit: must be at least 1"),
        ({"type": "page", "max_pages": "10"}, "pagination.max_pages: must be a whole number"),
    ],
)
def test_invalid_pagination_settings_are_named(feed_server, pagination, message):
    result = read_all(json_source(feed_server.url("/api"), pagination), PROFILE)
    assert str(result.error).startswith("The feed settings are invalid: ")
    assert message in str(result.error)
    assert feed_server.requests == []


def test_page_param_is_accepted_as_an_alias_of_param(feed_server):
    feed_server.route("/api", body=lambda r: json_page(products(0, 1) if r.query.get("pg") == "1" else []))
    result = read_all(json_source(feed_server.url("/api"), {"type": "page", "page_param": "pg"}), PROFILE)
    assert result.skus == ["P0"]
