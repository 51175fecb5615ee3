"""The outbound-request policy: what a feed URL may reach, over real sockets.

Real DNS cannot run here, so host names go through a resolver stub (``socket.getaddrinfo``
patched in-process); every connection is a real TCP (or TLS) connection to a real server.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from genesys.outbound import (
    OutboundPolicy,
    OutboundRefused,
    address_refusal,
    host_literal_address,
    outbound_session,
    text_excerpt,
    url_host_refusal,
    url_target_vet,
)
from procurement.feeds.download import http_page_download
from procurement.feeds.errors import FeedReadError
from procurement.feeds.options import HttpSettings
from procurement.feeds.preview import feed_preview
from procurement.feeds.reader import ReadStats, feed_read
from procurement.feeds.source import FeedSource
from tests.support.feeds import CSV_PROFILE

NO_ALLOW = OutboundPolicy()
LOOPBACK_ONE = OutboundPolicy.from_entries(["127.0.0.1/32"])  # stands for "a public address" below


# --- every address form ------------------------------------------------------------------------

REFUSED_ADDRESSES = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address refused, not bound
    ("::", "unspecified"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("fd12:3456::1", "private"),
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("100.100.100.200", "metadata"),
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("198.18.0.1", "private"),  # benchmarking
    ("192.0.2.1", "private"),  # documentation ranges are never a real feed
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:169.254.169.254", "metadata"),
    ("::ffff:10.0.0.1", "private"),
    ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
    ("2002:a9fe:a9fe::1", "metadata"),  # 6to4 around 169.254.169.254
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 around 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "metadata"),
]


@pytest.mark.parametrize(("address", "kind"), REFUSED_ADDRESSES)
def test_non_public_addresses_are_refused(address, kind):
    reason = address_refusal(ipaddress.ip_address(address))
    assert reason is not None
    assert kind in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),  # decimal
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("0x7f.1", "127.0.0.1"),  # hex, short
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),  # short
        ("0", "0.0.0.0"),  # noqa: S104
        ("017700000001", "127.0.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[0:0:0:0:0:ffff:7f00:1]", "::ffff:7f00:1"),
        ("[fe80::1%25eth0]", "fe80::1"),
    ],
)
def test_integer_octal_hex_and_short_host_forms_are_addresses(host, address):
    assert host_literal_address(host.replace("%25", "%")) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["feeds.example.com", "cafe.de", "0x7f.example", "1.2.3.4.5"])
def test_names_are_not_taken_for_addresses(host):
    assert host_literal_address(host) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://localhost:6379/",
        "http://redis.localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.1.2.3/",
        "http://100.64.0.1/",
        "http://0.0.0.0:8000/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://[2002:7f00:1::]/",
    ],
)
def test_every_refused_form_is_refused_before_any_connection(url):
    with pytest.raises(OutboundRefused):
        url_target_vet(url, policy=NO_ALLOW)


def test_only_http_and_https_with_a_host_are_fetched():
    for url in [
        "ftp://feeds.example.com/x",
        "gopher://127.0.0.1:6379/_INFO",
        "http:///x",
        "file:///etc/passwd",
    ]:
        with pytest.raises(OutboundRefused):
            url_target_vet(url, policy=NO_ALLOW)


# --- the allow-list ----------------------------------------------------------------------------


def test_the_allow_list_takes_names_suffixes_addresses_and_networks():
    policy = OutboundPolicy.from_entries(["feeds.corp.example", ".internal.example", "10.20.0.0/16", "::1"])
    assert policy.name_allowed("FEEDS.corp.example.")
    assert policy.name_allowed("erp.internal.example")
    assert not policy.name_allowed("internal.example.evil.com")
    assert policy.address_allowed(ipaddress.ip_address("10.20.3.4"))
    assert not policy.address_allowed(ipaddress.ip_address("10.21.0.1"))
    assert policy.address_allowed(ipaddress.ip_address("::1"))
    assert url_host_refusal("10.20.3.4", policy=policy) == ""
    assert "10.21.0.1" in url_host_refusal("10.21.0.1", policy=policy)


def test_a_bad_allow_list_entry_is_named():
    with pytest.raises(ValueError, match="not a host"):
        OutboundPolicy.from_entries(["feeds.example.com", "not a host"])


# --- resolution, through the resolver stub -----------------------------------------------------


class ResolverStub:
    """Answers for some names in turn (the last answer repeats); everything else resolves as usual."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []
        self.real = socket.getaddrinfo

    def __call__(self, host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return self.real(host, port, *args, **kwargs)
        self.calls.append(name)
        turn = self.answers[name]
        addresses = turn.pop(0) if len(turn) > 1 else turn[0]
        result = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port or 0, 0, 0) if family == socket.AF_INET6 else (address, port or 0)
            result.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        return result


@pytest.fixture
def resolver(monkeypatch):
    def install(answers: dict[str, list[list[str]]]) -> ResolverStub:
        stub = ResolverStub(answers)
        monkeypatch.setattr(socket, "getaddrinfo", stub)
        return stub

    return install


def test_a_name_resolving_to_a_private_address_is_refused(resolver):
    resolver({"feeds.example.com": [["10.9.8.7"]]})
    with pytest.raises(OutboundRefused, match=r"resolves to 10\.9\.8\.7, a private address"):
        url_target_vet("https://feeds.example.com/x.csv", policy=NO_ALLOW)


def test_a_name_resolving_to_any_bad_address_is_refused(resolver):
    resolver({"feeds.example.com": [["93.184.215.14", "127.0.0.1"]]})
    with pytest.raises(OutboundRefused, match=r"127\.0\.0\.1, a loopback address"):
        url_target_vet("https://feeds.example.com/x.csv", policy=NO_ALLOW)


def test_a_public_name_is_pinned_to_its_first_address(resolver):
    resolver({"feeds.example.com": [["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]]})
    target = url_target_vet("https://feeds.example.com/x.csv", policy=NO_ALLOW)
    assert (target.host, target.port, target.address) == ("feeds.example.com", 443, "93.184.215.14")


def test_an_allowed_name_may_resolve_to_the_operators_own_network(resolver):
    resolver({"erp.corp.example": [["10.9.8.7"]]})
    policy = OutboundPolicy.from_entries(["erp.corp.example"])
    assert url_target_vet("http://erp.corp.example/feed", policy=policy).address == "10.9.8.7"


def test_an_unresolvable_name_is_refused_with_its_name(resolver):
    resolver({})
    with pytest.raises(OutboundRefused, match="cannot be resolved"):
        url_target_vet("http://no-such-host.invalid/", policy=NO_ALLOW)


# --- over real sockets: the feed reader ----------------------------------------------------------


def _download(url: str, session: requests.Session):
    from procurement.feeds.auth import Credentials

    return http_page_download(
        session=session, url=url, credentials=Credentials(), headers={}, http=HttpSettings(retries=0)
    )


def test_the_feed_reader_refuses_loopback_when_it_is_not_allowed(settings, feed_server):
    settings.OUTBOUND_ALLOW_HOSTS = []
    feed_server.route("/feed.csv", body=b"sku;price\nA;1\n")
    for url in [
        feed_server.url("/feed.csv"),
        f"http://2130706433:{feed_server.port}/feed.csv",
        f"http://0177.0.0.1:{feed_server.port}/feed.csv",
        f"http://0x7f.1:{feed_server.port}/feed.csv",
        f"http://127.1:{feed_server.port}/feed.csv",
        f"http://localhost:{feed_server.port}/feed.csv",
    ]:
        stats = ReadStats()
        with pytest.raises(FeedReadError, match="refused by the outbound-request policy"):
            list(feed_read(source=FeedSource(url=url, format="csv"), profile=CSV_PROFILE, stats=stats))
    assert feed_server.requests == []


def test_the_feed_preview_in_the_web_process_is_refused_too(settings, feed_server, db):
    from tests.factories import FeedMapperFactory

    settings.OUTBOUND_ALLOW_HOSTS = []
    feed_server.route("/feed.csv", body=b"sku;price\nA;1\n")
    mapper = FeedMapperFactory(feed__source_url=feed_server.url("/feed.csv"), profile=CSV_PROFILE)
    preview = feed_preview(feed=mapper.feed)
    assert "refused by the outbound-request policy" in preview.error
    assert "a loopback address" in preview.error
    assert feed_server.requests == []


def test_an_allowed_loopback_feed_is_read(settings, feed_server):
    settings.OUTBOUND_ALLOW_HOSTS = ["127.0.0.1/32"]
    feed_server.route("/feed.csv", body=b"sku;price\nA;1\n")
    with outbound_session() as session:
        page = _download(feed_server.url("/feed.csv"), session)
    assert page.file.read() == b"sku;price\nA;1\n"


def test_every_redirect_hop_is_checked(feed_server):
    feed_server.route("/start", redirect_to="http://169.254.169.254/latest/meta-data/")
    feed_server.route("/to-loopback", redirect_to="http://127.0.0.2:6379/")
    for path in ["/start", "/to-loopback"]:
        with outbound_session(policy=LOOPBACK_ONE) as session:
            with pytest.raises(FeedReadError, match="refused by the outbound-request policy"):
                _download(feed_server.url(path), session)
    assert [r.path for r in feed_server.requests] == ["/start", "/to-loopback"]


class _Server:
    """A one-route HTTP(S) server on a given address and port; records what it was asked."""

    def __init__(self, address: str, port: int, body: bytes, context: ssl.SSLContext | None = None) -> None:
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.headers.get("Host", ""), self.path))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer((address, port), Handler)
        self.httpd.daemon_threads = True
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    started: list[_Server] = []

    def start(*args, **kwargs) -> _Server:
        server = _Server(*args, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def test_dns_rebinding_cannot_swap_the_vetted_address(resolver, servers):
    """The stub answers an acceptable address first and an internal one after (a rebinding DNS).

    127.0.0.1 is allowed here and stands for "a public address"; 127.0.0.2 is the internal
    service. Without pinning, the connection would resolve the name again and reach it.
    """
    good = servers("127.0.0.1", 0, b"sku;price\nA;1\n")
    internal = servers("127.0.0.2", good.port, b"SECRET internal data")
    stub = resolver({"feeds.rebind.test": [["127.0.0.1"], ["127.0.0.2"]]})
    url = f"http://feeds.rebind.test:{good.port}/feed.csv"

    with outbound_session(policy=LOOPBACK_ONE) as session:
        page = _download(url, session)
        assert page.file.read() == b"sku;price\nA;1\n"
        assert stub.calls == ["feeds.rebind.test"]  # resolved once, for the check; connected to it
        assert good.requests == [(f"feeds.rebind.test:{good.port}", "/feed.csv")]  # Host is the name

        # The next request is checked again: the name now points inside, and is refused.
        with pytest.raises(FeedReadError, match=r"resolves to 127\.0\.0\.2, a loopback address"):
            _download(url, session)
    assert internal.requests == []


def _openssl(*args: str, cwd) -> None:
    # The system's openssl makes the throw-away certificates.
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)  # noqa: S607


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A throw-away CA and a server certificate for feeds.tls.test."""
    folder = tmp_path_factory.mktemp("tls")
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=Genesys test CA", cwd=folder,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=feeds.tls.test", cwd=folder,
    )  # fmt: skip
    (folder / "ext.cnf").write_text("subjectAltName=DNS:feeds.tls.test\n")
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=folder,
    )  # fmt: skip
    return folder


def test_tls_checks_the_certificate_and_sni_against_the_name_not_the_pinned_address(
    resolver, servers, certificates
):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    seen_sni: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    server = servers("127.0.0.1", 0, b"sku;price\nA;1\n", context=context)
    resolver({"feeds.tls.test": [["127.0.0.1"]], "other.tls.test": [["127.0.0.1"]]})

    with outbound_session(policy=LOOPBACK_ONE) as session:
        session.verify = str(certificates / "ca.pem")
        page = _download(f"https://feeds.tls.test:{server.port}/feed.csv", session)
        assert page.file.read() == b"sku;price\nA;1\n"
        assert seen_sni == ["feeds.tls.test"]
        # Same address, another name: the certificate does not match it, so no data is read.
        with pytest.raises(FeedReadError, match="TLS connection failed"):
            _download(f"https://other.tls.test:{server.port}/feed.csv", session)
    assert len(server.requests) == 1


def test_excerpts_of_what_came_back_are_short_and_printable():
    reply = b"-ERR wrong number of arguments\r\n\x1b[31m" + b"x" * 500
    excerpt = text_excerpt(reply, limit=40)
    assert len(excerpt) == 40
    assert "\x1b" not in excerpt and "\r" not in excerpt
    assert excerpt.startswith("-ERR wrong number of arguments")
