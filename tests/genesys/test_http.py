"""One retry rule for feeds and the shop (genesys.http), over real sockets to a scripted server.

The server answers each connection with the next step of its script: an HTTP status with
headers, or a connection reset (RST, as a crashing proxy sends). Both users of the rule, the feed
download and the shop transport, are driven through it.
"""

import socket
import struct
import threading
import time

import pytest

from genesys.http import RetryPolicy, RetrySchedule, retry_after_seconds
from prestashop.errors import ShopConnectionError
from prestashop.transport import ShopTransport
from tests.support.feeds import csv_body, read_all, source_for

GOOD = csv_body("A1;5600000010075;Samsung;SM-1;Phone;10.50;3")


class ScriptedServer:
    """Each accepted connection takes the next step: ``(status, headers)`` or ``"reset"``; past the
    end of the script the last step repeats."""

    def __init__(self, steps):
        self.steps = list(steps)
        self.connections = 0
        self.times: list[float] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            step = self.steps[min(self.connections, len(self.steps) - 1)]
            self.connections += 1
            self.times.append(time.monotonic())
            with conn:
                conn.recv(65536)  # the request (small: a GET)
                if step == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    continue  # closing with linger 0 sends RST
                status, headers = step
                body = GOOD if status == 200 else b"not now"
                head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
                head += [f"{name}: {value}" for name, value in headers.items()]
                conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    def close(self):
        self.listener.close()


@pytest.fixture
def scripted():
    servers = []

    def start(*steps):
        server = ScriptedServer(steps)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def shop_transport(server, *, attempts=3):
    return ShopTransport(
        base_url=server.url("/api/"),
        timeout=(2.0, 2.0),
        retry=RetryPolicy(attempts=attempts, backoff_base=0.01, backoff_max=5.0),
        pool_size=1,
    )


@pytest.mark.parametrize("status", [429, 503])
def test_the_shop_waits_as_long_as_retry_after_says(scripted, status):
    server = scripted((status, {"Retry-After": "1"}), (200, {}))
    transport = shop_transport(server)
    response = transport.request("GET", "products")
    assert response.status_code == 200
    assert server.connections == 2
    assert server.times[1] - server.times[0] >= 1.0  # not the 10 ms backoff: the server's hint


@pytest.mark.parametrize("status", [429, 503])
def test_a_feed_waits_at_least_as_long_as_retry_after_says(scripted, status):
    """Jitter may stretch the server's hint, never shorten it (it used to by up to 10 %)."""
    server = scripted((status, {"Retry-After": "1"}), (200, {}))
    result = read_all(source_for(server.url("/feed.csv"), format_options={"retry_backoff": 0.01}))
    assert result.error is None and result.skus == ["A1"]
    assert server.times[1] - server.times[0] >= 1.0


def test_a_connection_reset_is_retried_by_both(scripted):
    feed_server = scripted("reset", (200, {}))
    result = read_all(source_for(feed_server.url("/feed.csv"), format_options={"retry_backoff": 0.01}))
    assert result.error is None and result.skus == ["A1"]
    shop_server = scripted("reset", (200, {}))
    assert shop_transport(shop_server).request("GET", "products").status_code == 200
    assert (feed_server.connections, shop_server.connections) == (2, 2)


def test_a_shop_create_is_not_retried_after_a_reset_it_may_have_applied(scripted):
    server = scripted("reset", (200, {}))
    with pytest.raises(ShopConnectionError) as caught:
        shop_transport(server).request("POST", "products", data=b"<x/>", idempotent=False)
    assert caught.value.maybe_applied is True
    assert server.connections == 1


def test_a_feed_gives_up_at_its_deadline_rather_than_wait_for_retry_after(scripted):
    server = scripted((503, {"Retry-After": "30"}))
    started = time.monotonic()
    result = read_all(
        source_for(
            server.url("/feed.csv"), format_options={"retries": 5, "max_seconds": 1.0, "retry_backoff": 0.01}
        )
    )
    assert time.monotonic() - started < 5
    assert result.error is not None
    assert str(result.error) == (
        f"{server.url('/feed.csv')}: the download took longer than 1 s (format_options.max_seconds)."
    )
    assert server.connections == 1  # the 30 s wait was cut at the deadline, and no attempt followed


def test_the_schedule_counts_attempts_and_never_sleeps_past_the_deadline():
    slept = []
    schedule = RetrySchedule(
        RetryPolicy(attempts=3, backoff_base=10, backoff_max=60, jitter=(1, 1)),
        remaining=lambda: 2.5,
        sleep=slept.append,
    )
    assert list(schedule.attempts()) == [1, 2, 3]
    assert schedule.next_delay(1) == 10 and schedule.next_delay(2) == 20
    assert schedule.next_delay(3) is None  # the last attempt failed: give up
    schedule.sleep(10)
    assert slept == [2.5]


def test_retry_after_is_raised_to_never_cut_and_capped_at_the_ceiling():
    policy = RetryPolicy(attempts=3, backoff_base=0.1, backoff_max=4.0, jitter=(0.9, 1.1))
    assert all(policy.delay(1, retry_after=3) >= 3 for _ in range(50))
    assert all(policy.delay(1, retry_after=600) <= 4.0 * 1.1 for _ in range(50))
    assert all(0.09 <= policy.delay(1) <= 0.11 for _ in range(50))


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("5", 5.0), (" 0 ", 0.0), ("", None), (None, None), ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)
def test_retry_after_is_read_in_seconds_only(header, seconds):
    assert retry_after_seconds(header) == seconds
