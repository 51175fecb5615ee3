"""CSV encodings: UTF-8 with or without BOM, cp1252 by fallback (with a warning) or by declaration."""

import codecs

from tests.support.feeds import read_all, source_for

TEXT = (
    "sku;ean;brand;mpn;name;price;stock\n"
    "A1;5600000010075;Balay;3FCE563ME;Frigorífico Combinado Inox;559,98;3\n"
)
PROFILE = {
    "fields": {
        "sku": "sku",
        "gtin": "ean",
        "name": "name",
        "price": {"source": "price", "transforms": [{"type": "decimal", "decimal_separator": ","}]},
        "stock": "stock",
    },
    "meta": "none",
}


def test_utf8_is_read_without_warnings(feed_server):
    feed_server.route("/feed.csv", body=TEXT.encode("utf-8"))
    result = read_all(source_for(feed_server.url("/feed.csv")), PROFILE)
    assert result.rows[0].name == "Frigorífico Combinado Inox"
    assert result.stats.warnings == []


def test_a_utf8_bom_does_not_end_up_in_the_first_column_name(feed_server):
    feed_server.route("/feed.csv", body=codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    result = read_all(source_for(feed_server.url("/feed.csv")), PROFILE)
    assert result.error is None
    assert result.skus == ["A1"]


def test_a_bom_is_stripped_even_when_utf8_is_declared(feed_server):
    feed_server.route("/feed.csv", body=codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    result = read_all(source_for(feed_server.url("/feed.csv"), format_options={"encoding": "UTF8"}), PROFILE)
    assert result.skus == ["A1"]


def test_utf16_with_a_bom_is_recognised(feed_server):
    feed_server.route("/feed.csv", body=TEXT.encode("utf-16"))
    result = read_all(source_for(feed_server.url("/feed.csv")), PROFILE)
    assert result.rows[0].name == "Frigorífico Combinado Inox"


def test_an_undeclared_cp1252_file_is_read_with_a_warning(feed_server):
    feed_server.route("/feed.csv", body=TEXT.encode("cp1252"))
    result = read_all(source_for(feed_server.url("/feed.csv")), PROFILE)
    assert result.rows[0].name == "Frigorífico Combinado Inox"
    assert result.stats.warnings == [
        f"{feed_server.url('/feed.csv')} is not valid UTF-8 (first bad byte on line 2); it was read as "
        "Windows-1252 (cp1252). Set format_options.encoding to say which encoding it uses."
    ]
    assert result.stats.completed


def test_the_fallback_is_decided_for_the_whole_file_not_line_by_line(feed_server):
    # The only non-UTF-8 byte is on the last line, far past the first chunk read.
    lines = [f"A{n};5600000010075;;;Maquina {n};1,00;1\n" for n in range(3000)] + [
        "B;5600000010075;;;Máquina;1;1\n"
    ]
    body = ("sku;ean;brand;mpn;name;price;stock\n" + "".join(lines)).encode("cp1252")
    assert len(body) > 100_000
    feed_server.route("/feed.csv", body=body)
    result = read_all(source_for(feed_server.url("/feed.csv")), PROFILE)
    assert len(result.rows) == 3001
    assert result.rows[-1].name == "Máquina"
    assert result.stats.warnings == [
        f"{feed_server.url('/feed.csv')} is not valid UTF-8 (first bad byte on line 3002); it was read as "
        "Windows-1252 (cp1252). Set format_options.encoding to say which encoding it uses."
    ]


def test_a_declared_cp1252_file_is_read_silently(feed_server):
    feed_server.route("/feed.csv", body=TEXT.encode("cp1252"))
    result = read_all(
        source_for(feed_server.url("/feed.csv"), format_options={"encoding": "cp1252"}), PROFILE
    )
    assert result.rows[0].name == "Frigorífico Combinado Inox"
    assert result.stats.warnings == []


def test_a_wrongly_declared_encoding_stops_the_read_with_the_line(feed_server):
    body = (
        "sku;ean;brand;mpn;name;price;stock\n" + "A0;5600000010075;;;ok;1,00;1\n" + TEXT.split("\n")[1]
    ).encode("cp1252")
    feed_server.route("/feed.csv", body=body)
    result = read_all(source_for(feed_server.url("/feed.csv"), format_options={"encoding": "utf-8"}), PROFILE)
    offset = body.index("í".encode("cp1252"))
    assert str(result.error) == (
        f"Line 3: the bytes are not valid utf-8 (offset {offset}); check format_options.encoding."
    )
    assert result.error.phase == "parse"
    assert result.rows == []  # decided before parsing: no half-read page


def test_bytes_that_are_neither_utf8_nor_cp1252_stop_the_read(feed_server):
    feed_server.route("/feed.csv", body=TEXT.encode("utf-8") + b"A2;;;;\x81\xff;1;1\n")
    result = read_all(source_for(feed_server.url("/feed.csv")), PROFILE)
    assert "the file is neither UTF-8" in str(result.error)
    assert "set format_options.encoding" in str(result.error)


def test_an_unknown_declared_encoding_is_a_settings_error(feed_server):
    result = read_all(
        source_for(feed_server.url("/feed.csv"), format_options={"encoding": "klingon"}), PROFILE
    )
    assert (
        str(result.error)
        == 'The feed settings are invalid: format_options.encoding: unknown encoding "klingon"'
    )
