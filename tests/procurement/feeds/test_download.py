"""Downloading: HTTP failures are clear, retried only when it helps, and bounded in time and size."""

import socket
import threading
import time

import pytest

from tests.support.feed_server import Reply, free_port
from tests.support.feeds import csv_body, read_all, source_for

GOOD = csv_body("A1;5600000010075;Samsung;SM-1;Phone;10.50;3")


def test_a_csv_over_http_is_read(feed_server):
    feed_server.route("/feed.csv", body=GOOD)
    result = read_all(source_for(feed_server.url("/feed.csv")))
    assert result.error is None
    assert result.skus == ["A1"]
    assert result.stats.completed
    assert result.stats.pages_fetched == 1
    assert result.stats.bytes_downloaded == len(GOOD)
    assert feed_server.requests[0].headers["user-agent"] == "Genesys feed reader"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, "HTTP 401 Unauthorized from http://127.0.0.1:{port}/feed.csv: the server wants credentials"),
        (403, "HTTP 403 Forbidden from http://127.0.0.1:{port}/feed.csv"),
        (404, "HTTP 404 Not Found from http://127.0.0.1:{port}/feed.csv: the address does not exist"),
    ],
)
def test_client_errors_stop_the_read_at_once_without_retrying(feed_server, status, expected):
    feed_server.route("/feed.csv", status=status, body=b"nope")
    result = read_all(source_for(feed_server.url("/feed.csv")))
    assert result.error is not None
    assert result.error.phase == "download"
    assert str(result.error).startswith(expected.format(port=feed_server.port))
    assert result.stats.error == str(result.error)
    assert not result.stats.completed
    assert len(feed_server.requests) == 1


def test_a_server_error_is_retried_with_backoff_then_fails(feed_server):
    feed_server.route("/feed.csv", status=500, body=b"boom")
    result = read_all(source_for(feed_server.url("/feed.csv"), format_options={"retries": 2}))
    assert len(feed_server.requests) == 3
    assert str(result.error) == (
        f"HTTP 500 Internal Server Error from {feed_server.url('/feed.csv')} (gave up after 3 attempts)."
    )


def test_a_server_error_that_clears_up_is_survived(feed_server):
    answers = iter([Reply(status=503), Reply(status=502), Reply(body=GOOD)])
    feed_server.route("/feed.csv", body=lambda request: next(answers))
    result = read_all(source_for(feed_server.url("/feed.csv")))
    assert result.error is None
    assert result.skus == ["A1"]
    assert len(feed_server.requests) == 3


def test_too_many_requests_is_retried(feed_server):
    answers = iter([Reply(status=429, headers={"Retry-After": "0"}), Reply(body=GOOD)])
    feed_server.route("/feed.csv", body=lambda request: next(answers))
    assert read_all(source_for(feed_server.url("/feed.csv"))).skus == ["A1"]


def test_a_server_that_does_not_answer_times_out(feed_server):
    feed_server.route("/feed.csv", body=GOOD, hold=True)
    result = read_all(source_for(feed_server.url("/feed.csv"), format_options={"timeout": 0.2, "retries": 1}))
    assert str(result.error) == (
        f"{feed_server.url('/feed.csv')} did not answer for 0.2 s (timeout) (gave up after 2 attempts)."
    )
    assert len(feed_server.requests) == 2


def test_a_server_that_stops_sending_mid_body_times_out(feed_server):
    feed_server.route("/feed.csv", body=GOOD, stall=600)
    result = read_all(source_for(feed_server.url("/feed.csv"), format_options={"timeout": 0.2, "retries": 0}))
    assert "stopped sending data for 0.2 s (timeout)" in str(result.error)


# 10 KB: about 90 minutes at one byte every 0.5 s, far beyond any bound checked here.
TRICKLED = csv_body(*[f"T{n};;Brand;PN{n};Name;1;1" for n in range(400)])


class TestDeadline:
    """``max_seconds`` holds while reading: a server trickling bytes is cut off at the deadline."""

    def test_a_trickling_body_fails_at_the_deadline_not_after_the_next_chunk(self, feed_server):
        feed_server.route("/feed.csv", body=TRICKLED, trickle=0.5)
        options = {"timeout": 30, "max_seconds": 1, "retries": 2}
        started = time.monotonic()
        result = read_all(source_for(feed_server.url("/feed.csv"), format_options=options))
        elapsed = time.monotonic() - started
        assert str(result.error) == (
            f"{feed_server.url('/feed.csv')}: the download took longer than 1 s (format_options.max_seconds)."
        )
        assert result.error.phase == "download"
        assert not result.stats.completed
        assert len(feed_server.requests) == 1  # the deadline is for the page, retries included
        assert 1 <= elapsed < 30  # generous for a busy machine; without the deadline: 90 minutes

    def test_a_server_that_never_answers_is_cut_off_even_with_a_long_read_timeout(self, feed_server):
        feed_server.route("/feed.csv", hold=True)
        options = {"timeout": 600, "max_seconds": 0.5, "retries": 0}
        result = read_all(source_for(feed_server.url("/feed.csv"), format_options=options))
        assert "the download took longer than 0.5 s (format_options.max_seconds)" in str(result.error)

    def test_trickled_headers_are_cut_off_too(self):
        """The status line and headers come before any body check: the deadline covers them."""
        stop = threading.Event()
        listener = socket.create_server(("127.0.0.1", 0))

        def serve() -> None:
            connection, _address = listener.accept()
            with connection:
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                    if stop.wait(0.5):
                        return
                    try:
                        connection.sendall(bytes([byte]))
                    except OSError:
                        return

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed.csv"
        try:
            options = {"timeout": 60, "max_seconds": 1, "retries": 0}
            result = read_all(source_for(url, format_options=options))
        finally:
            stop.set()
            listener.close()
        assert str(result.error) == f"{url}: the download took longer than 1 s (format_options.max_seconds)."

    def test_retries_stop_at_the_deadline(self, feed_server):
        feed_server.route("/feed.csv", status=503)
        options = {"retries": 5, "retry_backoff": 600, "max_seconds": 0.5}
        result = read_all(source_for(feed_server.url("/feed.csv"), format_options=options))
        assert "the download took longer than 0.5 s (format_options.max_seconds)" in str(result.error)
        assert len(feed_server.requests) == 1  # no second attempt after a backoff past the deadline

    def test_a_trickling_later_page_fails_the_read_after_the_earlier_pages(self, feed_server):
        first = csv_body("A1;5600000010075;Samsung;SM-1;Phone;10.50;3", "A2;;LG;X;TV;1;1")

        def pages(request):
            if request.query.get("page") == "1":
                return Reply(body=first)
            return Reply(body=TRICKLED, trickle=0.5)

        feed_server.route("/feed.csv", body=pages)
        options = {"timeout": 30, "max_seconds": 1}
        source = source_for(
            feed_server.url("/feed.csv"), format_options=options, pagination={"type": "page", "size": 2}
        )
        result = read_all(source)
        assert result.skus == ["A1", "A2"]
        assert str(result.error) == (
            f"{feed_server.url('/feed.csv')}?page=2: the download took longer than 1 s "
            "(format_options.max_seconds)."
        )
        assert not result.stats.completed


def test_a_refused_connection_is_retried_then_reported():
    url = f"http://127.0.0.1:{free_port()}/feed.csv"
    result = read_all(source_for(url, format_options={"retries": 1}))
    assert str(result.error) == f"{url}: connection refused (gave up after 2 attempts)."
    assert result.error.phase == "download"


def test_a_redirect_is_followed(feed_server):
    feed_server.route("/old.csv", redirect_to="/feed.csv")
    feed_server.route("/feed.csv", body=GOOD)
    assert read_all(source_for(feed_server.url("/old.csv"))).skus == ["A1"]


def test_a_redirect_loop_is_named(feed_server):
    feed_server.route("/a", redirect_to="/b")
    feed_server.route("/b", redirect_to="/a")
    result = read_all(source_for(feed_server.url("/a")))
    a, b = feed_server.url("/a"), feed_server.url("/b")
    assert str(result.error) == f"Redirect loop: {a} → {b} → {a}."
    assert len(feed_server.requests) == 2


def test_an_endless_chain_of_redirects_stops(feed_server):
    for n in range(15):
        feed_server.route(f"/r{n}", redirect_to=f"/r{n + 1}")
    result = read_all(source_for(feed_server.url("/r0")))
    assert str(result.error).startswith("More than 10 redirects from")


def test_a_body_over_the_size_limit_is_refused_from_its_content_length(feed_server):
    feed_server.route("/feed.csv", body=GOOD)
    result = read_all(source_for(feed_server.url("/feed.csv"), format_options={"max_bytes": 20}))
    assert str(result.error) == (
        f"{feed_server.url('/feed.csv')} is larger than the limit of 20 bytes (format_options.max_bytes); "
        "the download was stopped."
    )


def test_a_streamed_body_over_the_size_limit_is_stopped_while_downloading(feed_server):
    sent = []

    def endless(request):
        def chunks():
            yield b"sku;ean;brand;mpn;name;price;stock\n"
            for n in range(10_000):
                sent.append(n)
                yield b"X;;;;;1;1\n" * 100

        return chunks()

    feed_server.route("/feed.csv", body=endless)
    result = read_all(source_for(feed_server.url("/feed.csv"), format_options={"max_bytes": 64 * 1024}))
    assert "is larger than the limit of 64 KB" in str(result.error)
    assert result.stats.rows_read == 0  # nothing of a truncated page is parsed
    assert len(sent) < 10_000


def test_custom_headers_are_sent(feed_server):
    feed_server.route("/feed.csv", body=GOOD)
    read_all(source_for(feed_server.url("/feed.csv"), headers={"Accept": "text/csv", "X-Shop": "genesys"}))
    headers = feed_server.requests[0].headers
    assert headers["accept"] == "text/csv"
    assert headers["x-shop"] == "genesys"


def test_an_unsupported_scheme_is_refused():
    result = read_all(source_for("ftp://example.com/feed.csv"))
    assert str(result.error) == "The source must be an http(s):// URL or file:relative/path under FEEDS_ROOT."


def test_an_empty_body_is_an_error_not_an_empty_catalog(feed_server):
    feed_server.route("/feed.csv", body=b"")
    result = read_all(source_for(feed_server.url("/feed.csv")))
    assert str(result.error) == f"The feed is empty (0 bytes) at {feed_server.url('/feed.csv')}."
    assert result.error.phase == "parse"


class TestFileSources:
    def test_a_file_under_feeds_root_is_read(self, feeds_root):
        (feeds_root / "acme").mkdir()
        (feeds_root / "acme" / "feed.csv").write_bytes(GOOD)
        result = read_all(source_for("file:acme/feed.csv"))
        assert result.skus == ["A1"]
        assert result.stats.bytes_downloaded == len(GOOD)
        assert result.stats.completed

    @pytest.mark.parametrize(
        "path", ["../secret.csv", "acme/../../secret.csv", "/etc/passwd", "//etc/passwd"]
    )
    def test_paths_that_leave_feeds_root_are_refused(self, feeds_root, path):
        (feeds_root.parent / "secret.csv").write_bytes(GOOD)
        result = read_all(source_for(f"file:{path}"))
        assert str(result.error) == (
            f"file:{path}: only paths relative to FEEDS_ROOT, without '..', are allowed; refused."
        )
        assert result.rows == []

    def test_a_symbolic_link_out_of_feeds_root_is_refused(self, feeds_root):
        outside = feeds_root.parent / "outside.csv"
        outside.write_bytes(GOOD)
        (feeds_root / "link.csv").symlink_to(outside)
        result = read_all(source_for("file:link.csv"))
        assert str(result.error) == (
            "file:link.csv: the path leads outside FEEDS_ROOT (through a symbolic link); refused."
        )

    def test_a_symbolic_link_inside_feeds_root_is_fine(self, feeds_root):
        (feeds_root / "real.csv").write_bytes(GOOD)
        (feeds_root / "today.csv").symlink_to(feeds_root / "real.csv")
        assert read_all(source_for("file:today.csv")).skus == ["A1"]

    def test_a_missing_file_is_reported(self, feeds_root):
        result = read_all(source_for("file:nowhere.csv"))
        assert str(result.error) == "file:nowhere.csv: no such file under FEEDS_ROOT."

    def test_a_directory_is_not_a_feed(self, feeds_root):
        (feeds_root / "folder").mkdir()
        assert str(read_all(source_for("file:folder")).error) == "file:folder: not a regular file."

    def test_a_file_over_the_size_limit_is_refused(self, feeds_root):
        (feeds_root / "feed.csv").write_bytes(GOOD)
        result = read_all(source_for("file:feed.csv", format_options={"max_bytes": 10}))
        assert "file:feed.csv is larger than the limit of 10 bytes" in str(result.error)
