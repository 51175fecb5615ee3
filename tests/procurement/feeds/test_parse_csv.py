"""CSV: rows stream out; bad records are rejected with a reason, broken files stop with a clear error."""

from tests.support.feeds import CSV_HEADER, csv_body, read_all, source_for

ROW = "A1;5600000010075;Samsung;SM-1;Phone;10.50;3"


def read_csv(feed_server, body: bytes, **options):
    feed_server.route("/feed.csv", body=body)
    return read_all(source_for(feed_server.url("/feed.csv"), format_options=options or None))


def test_each_record_becomes_a_row_with_its_physical_line(feed_server):
    body = csv_body(
        ROW, 'A2;5600000010143;LG;"OLED\n55";"TV ""55""\nwith a second line";1.00;2', "A3;;LG;X;;2;0"
    )
    result = read_csv(feed_server, body)
    assert result.error is None
    assert [(row.sku, row.line) for row in result.rows] == [("A1", 2), ("A2", 3), ("A3", 6)]
    assert result.row("A2").name == 'TV "55" with a second line'
    assert result.row("A2").partnumber == "OLED\n55"


def test_blank_lines_and_empty_separator_lines_are_skipped(feed_server):
    result = read_csv(feed_server, csv_body(ROW, "", ";;;;;;", "A2;5600000010143;LG;X;TV;1;1"))
    assert result.skus == ["A1", "A2"]
    assert result.rejections == []
    assert result.stats.rows_read == 2


def test_crlf_line_endings(feed_server):
    result = read_csv(feed_server, csv_body(ROW, "A2;5600000010143;LG;X;TV;1;1").replace(b"\n", b"\r\n"))
    assert result.skus == ["A1", "A2"]


def test_a_header_only_csv_has_zero_rows_and_is_complete(feed_server):
    result = read_csv(feed_server, CSV_HEADER.encode())
    assert result.error is None
    assert result.rows == [] and result.rejections == []
    assert result.stats.completed


def test_a_file_of_blank_lines_has_no_header(feed_server):
    result = read_csv(feed_server, b"\n\n  \n")
    assert str(result.error) == "The CSV has no header row (the page is empty)."


def test_a_ragged_line_is_a_rejected_row_with_a_reason(feed_server):
    result = read_csv(
        feed_server, csv_body(ROW, "A2;5600000010143;LG;X", "A3;5600000010211;LG;X;TV;1;1;surplus", ROW)
    )
    assert result.skus == ["A1", "A1"]
    short, long = result.rejections
    assert (short.line, short.reason) == (
        3,
        "4 fields where the header has 7 (a ragged line; check delimiters and quotes)",
    )
    assert short.raw == {"sku": "A2", "ean": "5600000010143", "brand": "LG", "mpn": "X"}
    assert (long.line, long.reason) == (
        4,
        "8 fields where the header has 7 (a ragged line; check delimiters and quotes)",
    )
    assert long.raw["#8"] == "surplus"
    assert result.stats.rows_read == 4
    assert result.stats.completed


def test_empty_trailing_fields_beyond_the_header_are_tolerated(feed_server):
    result = read_csv(feed_server, csv_body(ROW + ";;"))
    assert result.skus == ["A1"]


def test_text_after_a_closing_quote_rejects_that_row_only(feed_server):
    result = read_csv(
        feed_server, csv_body(ROW, 'A2;5600000010143;LG;X;"TV" 55;1;1', "A3;5600000010211;LG;X;TV;1;1")
    )
    assert result.skus == ["A1", "A3"]
    (rejection,) = result.rejections
    assert rejection.line == 3
    assert rejection.reason.startswith("malformed CSV: ';' expected after '\"'")


def test_an_unterminated_quote_stops_the_read_after_the_rows_before_it(feed_server):
    result = read_csv(
        feed_server, csv_body(ROW, 'A2;5600000010143;LG;X;"TV 55;1;1', "A3;5600000010211;LG;X;TV;1;1")
    )
    assert result.skus == ["A1"]
    assert str(result.error) == (
        "Line 3: a quoted field is never closed (unterminated quote); the read stopped there."
    )
    assert result.error.phase == "parse"
    assert not result.stats.completed


def test_a_huge_field_rejects_its_row(feed_server):
    huge = "x" * 1_000_001
    result = read_csv(
        feed_server, csv_body(ROW, f"A2;5600000010143;LG;X;{huge};1;1", "A3;5600000010211;LG;X;TV;1;1")
    )
    assert result.skus == ["A1", "A3"]
    (rejection,) = result.rejections
    assert rejection.reason == 'column "name": 1,000,001 characters; the limit is 1,000,000'
    assert len(rejection.raw["name"]) == 200


def test_a_long_description_is_not_a_problem(feed_server):
    text = "<p>" + "Muito bom. " * 10_000 + "</p>"  # 110 KB: above csv's default field limit
    body = f"sku;ean;brand;mpn;name;price;stock;desc\nA1;5600000010075;LG;X;TV;1;1;{text}\n".encode()
    feed_server.route("/feed.csv", body=body)
    profile = {
        "fields": {"sku": "sku", "gtin": "ean", "price": "price", "stock": "stock", "description": "desc"}
    }
    result = read_all(source_for(feed_server.url("/feed.csv")), profile)
    assert len(result.rows[0].description) == 20_000
    assert result.rows[0].warnings == (f"description: {len(text)} characters, cut to 20000",)


def test_a_field_beyond_10_mb_stops_the_read(feed_server):
    result = read_csv(
        feed_server, csv_body(ROW, "A2;5600000010143;LG;X;" + "y" * (10 * 1024 * 1024 + 1) + ";1;1")
    )
    assert result.skus == ["A1"]
    assert str(result.error) == (
        "Line 3: a field is longer than 10 MB, most likely because a quote is never closed; "
        "the read stopped there."
    )


def test_other_delimiters_and_quote_characters(feed_server):
    body = b"sku|ean|brand|mpn|name|price|stock\nA1|5600000010075|LG|X|'TV | 55'|1|1\n"
    result = read_csv(feed_server, body, delimiter="|", quotechar="'")
    assert result.row("A1").name == "TV | 55"


def test_a_tab_delimiter_can_be_written_as_tab(feed_server):
    result = read_csv(feed_server, csv_body(ROW).replace(b";", b"\t"), delimiter="tab")
    assert result.skus == ["A1"]


def test_a_missing_required_column_stops_the_read_naming_it(feed_server):
    feed_server.route("/feed.csv", body=b"sku;ean;stock\nA1;5600000010075;1\n")
    profile = {"fields": {"sku": "sku", "gtin": "ean", "price": "Preco", "stock": "stock"}}
    result = read_all(source_for(feed_server.url("/feed.csv")), profile)
    assert (
        str(result.error)
        == 'The CSV header lacks column "Preco" (fields.price). Its columns are: sku, ean, stock.'
    )
    assert result.error.phase == "parse"


def test_a_wrong_delimiter_is_hinted(feed_server):
    feed_server.route("/feed.csv", body=csv_body(ROW))
    result = read_all(source_for(feed_server.url("/feed.csv"), format_options={"delimiter": ","}))
    assert str(result.error).endswith("A single column: is format_options.delimiter right?")


def test_columns_match_ignoring_case_and_spaces_and_a_missing_optional_one_is_a_warning(feed_server):
    feed_server.route("/feed.csv", body=b" SKU ;EAN;Preco;Stock\nA1;5600000010075;1;2\n")
    profile = {"fields": {"sku": "sku", "gtin": "ean", "price": "preco", "stock": "STOCK", "brand": "Marca"}}
    result = read_all(source_for(feed_server.url("/feed.csv")), profile)
    assert result.skus == ["A1"]
    assert result.stats.warnings == [
        'Column "Marca" (fields.brand) is not in the CSV header; the field stays empty.'
    ]


def test_a_duplicated_column_is_a_warning_and_the_last_one_wins(feed_server):
    feed_server.route("/feed.csv", body=b"sku;ean;price;stock;price\nA1;5600000010075;1;2;3\n")
    profile = {"fields": {"sku": "sku", "gtin": "ean", "price": "price", "stock": "stock"}}
    result = read_all(source_for(feed_server.url("/feed.csv")), profile)
    assert str(result.rows[0].price) == "3.0000"
    assert result.stats.warnings == [
        'Column "price" appears more than once in the header; the last one is used.'
    ]


def test_duplicated_skus_are_all_yielded_for_the_ingest_to_decide(feed_server):
    result = read_csv(feed_server, csv_body(ROW, ROW.replace("10.50", "9.99")))
    assert [(row.sku, str(row.price)) for row in result.rows] == [("A1", "10.5000"), ("A1", "9.9900")]
