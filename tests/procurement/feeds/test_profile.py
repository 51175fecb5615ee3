"""Mapper profiles: validation names the path of every problem; compiled profiles map items."""

import pytest
from django.core.exceptions import ValidationError

from procurement.feeds.mapping import ProfileBindError, RawItem, profile_compile
from procurement.feeds.profile import profile_problems, profile_validate

VALID = {"fields": {"sku": "sku", "gtin": "ean", "price": "price", "stock": "stock"}}


def problems_of(**changes):
    return profile_problems({**VALID, **changes})


def test_a_valid_profile_has_no_problems():
    assert profile_problems(VALID) == []
    profile_validate(VALID)


def test_the_demo_profiles_are_valid(settings):
    import json

    data = json.loads((settings.BASE_DIR / "demo" / "suppliers.json").read_text())
    for supplier in data["suppliers"]:
        for feed in supplier["feeds"]:
            assert profile_problems(feed["mapper"]["profile"]) == []


def test_validation_raises_with_every_message():
    with pytest.raises(ValidationError) as excinfo:
        profile_validate({"fields": {"sku": "sku"}})
    assert excinfo.value.messages == [
        "fields.price: required",
        "fields.stock: required",
        "fields: map gtin, or partnumber (with brand), so that products can be identified",
    ]


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ([], 'profile: must be a JSON object with "fields" (and optionally "meta")'),
        ({"meta": "none"}, "fields: required, an object mapping canonical fields to sources"),
        ({**VALID, "colour": 1}, 'colour: unknown key; a profile has "fields" and "meta"'),
        (
            {"fields": {**VALID["fields"], "colour": "c"}},
            "fields.colour: unknown field; the fields are sku, price",
        ),
        ({"fields": {**VALID["fields"], "brand": ""}}, "fields.brand: must name a source"),
        ({"fields": {**VALID["fields"], "brand": 3}}, "fields.brand: must be a source name or an object"),
        ({"fields": {**VALID["fields"], "brand": {}}}, 'fields.brand: needs a "source" (or a "constant")'),
        (
            {"fields": {**VALID["fields"], "brand": {"source": "b", "constant": "LG"}}},
            "fields.brand: use either source or constant, not both",
        ),
        (
            {"fields": {**VALID["fields"], "brand": {"source": []}}},
            "fields.brand.source: must be a source name",
        ),
        ({"fields": {**VALID["fields"], "brand": {"src": "b"}}}, "fields.brand.src: unknown key"),
        (
            {"fields": {**VALID["fields"], "price": {"source": "p", "transforms": {"type": "decimal"}}}},
            "fields.price.transforms: must be a list",
        ),
        ({**VALID, "meta": "all"}, 'meta: must be "rest", "none" or a list of source names'),
    ],
)
def test_structural_problems_are_named(profile, message):
    assert any(problem.startswith(message) for problem in profile_problems(profile)), profile_problems(
        profile
    )


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        (
            {"type": "decmal"},
            'fields.price.transforms[0]: unknown transform "decmal"; the transforms are trim,',
        ),
        ({}, 'fields.price.transforms[0]: needs a "type"'),
        ("trim", 'fields.price.transforms[0]: must be an object such as {"type": "trim"}'),
        (
            {"type": "decimal", "separator": ","},
            'fields.price.transforms[0].separator: unknown setting for "decimal" '
            "(settings: decimal_separator, thousands_separator)",
        ),
        (
            {"type": "decimal", "decimal_separator": ";"},
            'fields.price.transforms[0].decimal_separator: must be "."',
        ),
        (
            {"type": "decimal", "decimal_separator": ",", "thousands_separator": ","},
            "fields.price.transforms[0].thousands_separator: must differ from decimal_separator",
        ),
        ({"type": "currency"}, "fields.price.transforms[0].expect: is required for currency"),
        ({"type": "currency", "expect": "euro"}, "fields.price.transforms[0].expect: must be a three-letter"),
        ({"type": "multiply", "by": "x"}, "fields.price.transforms[0].by: must be a decimal number"),
        (
            {"type": "regex", "pattern": "("},
            "fields.price.transforms[0].pattern: is not a valid regular expression",
        ),
        (
            {"type": "regex", "pattern": "(a)", "group": 2},
            "fields.price.transforms[0].group: the pattern has no group 2",
        ),
        ({"type": "split"}, "fields.price.transforms[0].separator: is required for split"),
        ({"type": "map", "values": ["a"]}, "fields.price.transforms[0].values: must be an object"),
        (
            {"type": "stock", "available_quantity": -1},
            "fields.price.transforms[0].available_quantity: must be",
        ),
        ({"type": "stock", "words": {"talvez": "2"}}, "fields.price.transforms[0].words: must map words"),
        (
            {"type": "trim", "extra": 1},
            'fields.price.transforms[0].extra: unknown setting for "trim" (settings: none)',
        ),
    ],
)
def test_transform_problems_name_the_field_the_index_and_the_setting(transform, message):
    profile = {"fields": {**VALID["fields"], "price": {"source": "p", "transforms": [transform]}}}
    problems = profile_problems(profile)
    assert any(problem.startswith(message) for problem in problems), problems


def test_the_second_transform_is_named_by_its_index():
    profile = {
        "fields": {
            **VALID["fields"],
            "price": {"source": "p", "transforms": [{"type": "trim"}, {"type": "x"}]},
        }
    }
    assert profile_problems(profile)[0].startswith('fields.price.transforms[1]: unknown transform "x"')


def test_compile_refuses_an_invalid_profile():
    with pytest.raises(ValidationError):
        profile_compile(profile={"fields": {}})


class TestMapping:
    ITEM = {
        "sku": " A1 ",
        "ean": "5600000010075",
        "price": "10",
        "stock": "3",
        "family": "Informática",
        "sub": "Portáteis",
        "specs": {"ram": "16GB", "cpu": {"brand": "Intel"}},
        "tags": ["a", "b"],
        "empty": "",
    }

    def map(self, profile, item=None):
        return profile_compile(profile=profile).item_map(RawItem(7, dict(item or self.ITEM)))

    def test_a_list_of_sources_and_a_constant(self):
        row = self.map(
            {
                "fields": {
                    **VALID["fields"],
                    "brand": {"constant": "Lenovo"},
                    "category": {"source": ["family", "sub"]},
                },
                "meta": "none",
            }
        )
        assert (row.line, row.sku, row.brand, row.category) == (
            7,
            "A1",
            "Lenovo",
            ("Informática", "Portáteis"),
        )
        assert row.meta == {}

    def test_meta_rest_flattens_everything_not_used(self):
        row = self.map({"fields": {**VALID["fields"], "category": "family"}})
        assert row.meta == {
            "sub": "Portáteis",
            "specs.ram": "16GB",
            "specs.cpu.brand": "Intel",
            "tags": '["a", "b"]',
        }

    def test_a_used_nested_source_excludes_its_subtree_and_ancestors_only(self):
        row = self.map({"fields": {**VALID["fields"], "brand": "specs.cpu.brand"}, "meta": "rest"})
        assert "specs.cpu.brand" not in row.meta
        assert row.meta["specs.ram"] == "16GB"

    def test_meta_list_names_the_sources(self):
        row = self.map({**VALID, "meta": ["specs", "family", "missing"]})
        assert row.meta == {"specs.ram": "16GB", "specs.cpu.brand": "Intel", "family": "Informática"}

    def test_a_transform_failure_rejects_the_row_naming_the_field(self):
        profile = {
            "fields": {**VALID["fields"], "stock": {"source": "stock", "transforms": [{"type": "stock"}]}}
        }
        rejection = self.map(profile, {**self.ITEM, "stock": "talvez"})
        assert rejection.reason.startswith('stock: unknown word "talvez"')
        assert rejection.line == 7
        assert rejection.raw["stock"] == "talvez"

    def test_csv_header_binding_matches_loosely_and_refuses_missing_required_columns(self):
        compiled = profile_compile(profile={**VALID, "fields": {**VALID["fields"], "brand": "Marca"}})
        assert compiled.header_bind([" SKU", "EAN", "Price ", "stock", "marca"]) == []
        row = compiled.item_map(
            RawItem(2, {" SKU": "A", "EAN": "5600000010075", "Price ": "1", "stock": "1", "marca": "LG"})
        )
        assert (row.sku, row.brand) == ("A", "LG")
        with pytest.raises(ProfileBindError, match=r'The CSV header lacks column "price" \(fields.price\)'):
            compiled.header_bind(["sku", "ean", "stock"])


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"source": "Title", "inherit": ""}, "name", "fields.name.inherit: must name the grouping column"),
        ({"source": "Title", "inherit": 3}, "name", "fields.name.inherit: must name the grouping column"),
        ({"source": "Handle", "inherit": "Handle"}, "sku", "fields.sku.inherit: every row needs its own SKU"),
        (
            {"constant": "X", "inherit": "Handle"},
            "name",
            "fields.name.inherit: only a field read from a source",
        ),
    ],
)
def test_inherit_is_validated_with_the_profile(spec, field, message):
    profile = {"fields": {**VALID["fields"], field: spec}}
    assert any(problem.startswith(message) for problem in profile_problems(profile)), profile_problems(
        profile
    )


class TestInherit:
    """Shopify's product CSV: the first row of a product carries Title and Vendor; its variant
    rows leave them blank and share the Handle."""

    PROFILE = {
        "fields": {
            "sku": "Variant SKU",
            "gtin": "Variant Barcode",
            "brand": {"source": "Vendor", "inherit": "Handle"},
            "partnumber": "Variant SKU",
            "name": {"source": "Title", "inherit": "Handle"},
            "price": "Variant Price",
            "stock": "Variant Inventory Qty",
        },
        "meta": "none",
    }

    def rows(self, *items):
        compiled = profile_compile(profile=self.PROFILE)
        return [compiled.item_map(RawItem(n, item)) for n, item in enumerate(items, start=2)]

    @staticmethod
    def item(handle, sku, title="", vendor=""):
        return {
            "Handle": handle,
            "Title": title,
            "Vendor": vendor,
            "Variant SKU": sku,
            "Variant Barcode": "",
            "Variant Price": "10",
            "Variant Inventory Qty": "1",
        }

    def test_variant_rows_take_the_blank_fields_from_the_first_row_of_their_group(self):
        rows = self.rows(
            self.item("tee", "TEE-S", "Organic tee", "Acme"),
            self.item("tee", "TEE-M"),
            self.item("mug", "MUG-1", "Mug", "Other"),
            self.item("mug", "MUG-2", vendor="Third"),
        )
        assert [(r.sku, r.name, r.brand) for r in rows] == [
            ("TEE-S", "Organic tee", "Acme"),
            ("TEE-M", "Organic tee", "Acme"),
            ("MUG-1", "Mug", "Other"),
            ("MUG-2", "Mug", "Third"),  # its own value wins
        ]

    def test_a_blank_field_of_another_group_stays_blank(self):
        rows = self.rows(self.item("tee", "TEE-S", "Organic tee", "Acme"), self.item("mug", "MUG-1"))
        assert rows[1].reason == "no valid GTIN and no brand (brand + part number identify a product)"

    def test_a_row_without_a_group_inherits_nothing(self):
        rows = self.rows(self.item("", "A", "Organic tee", "Acme"), self.item("", "B"))
        assert rows[1].reason == "no valid GTIN and no brand (brand + part number identify a product)"

    def test_the_grouping_column_is_bound_to_the_csv_header(self):
        compiled = profile_compile(profile=self.PROFILE)
        warnings = compiled.header_bind(
            ["Variant SKU", "Variant Barcode", "Vendor", "Title", "Variant Price", "Variant Inventory Qty"]
        )
        assert (
            'Column "Handle" (fields.brand.inherit) is not in the CSV header; the field stays empty.'
            in warnings
        )
