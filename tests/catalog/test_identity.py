"""Identity rules, without a database: which product a row is, and when rows that resolved to one
product are not one product."""

from decimal import Decimal

from catalog.policies.identity import (
    CONFLICT,
    CREATE,
    FILL,
    MATCH,
    IdentityRow,
    IdentityThresholds,
    ProductProposal,
    canonical_fill,
    identity_conflicts,
    identity_resolve,
    identity_signature,
    name_similarity,
    name_variants,
    price_outlier,
)

D = Decimal
DEFAULTS = IdentityThresholds()


def row(sku, name, price, gtin="", partnumber=""):
    return IdentityRow(sku=sku, name=name, price=D(price), gtin_raw=gtin, partnumber=partnumber)


def test_the_defaults_are_a_third_of_the_words_and_three_times_the_price():
    assert DEFAULTS.name_similarity == 0.3
    assert DEFAULTS.price_factor == D("3")


def test_one_row_is_never_a_conflict():
    assert identity_conflicts([row("A", "Sander", "9792")], thresholds=DEFAULTS) == []


def test_rows_that_agree_are_not_a_conflict():
    rows = [row("A", "Samsung Galaxy A55 5G 128 GB", "329"), row("B", "Galaxy A55 5G 128GB Samsung", "325")]
    assert identity_conflicts(rows, thresholds=DEFAULTS) == []


def test_prices_more_than_the_factor_apart_conflict_and_the_reason_names_both_skus():
    rows = [row("PAD", "Lägler Hummel pads", "11.10"), row("HUM", "Lägler Hummel", "9792.00")]
    [reason] = identity_conflicts(rows, thresholds=DEFAULTS)
    assert "11.1 (PAD)" in reason and "9792 (HUM)" in reason and "3 times" in reason


def test_prices_exactly_at_the_factor_do_not_conflict():
    rows = [row("A", "Cable HDMI", "10"), row("B", "Cable HDMI", "30")]
    assert identity_conflicts(rows, thresholds=DEFAULTS) == []
    assert identity_conflicts(rows, thresholds=IdentityThresholds(price_factor=D("2"))) != []


def test_zero_prices_do_not_count_for_the_spread():
    rows = [row("A", "Cable HDMI", "0"), row("B", "Cable HDMI", "30")]
    assert identity_conflicts(rows, thresholds=DEFAULTS) == []


def test_names_that_share_few_words_conflict():
    rows = [
        row("A", "Floor sander Hummel 230V", "100"),
        row("B", "Abrasive discs for edging machines", "100"),
    ]
    [reason] = identity_conflicts(rows, thresholds=DEFAULTS)
    assert "share few words" in reason and "(A)" in reason and "(B)" in reason


def test_name_similarity_ignores_case_accents_stop_words_and_colours():
    assert name_similarity("Máquina de Lavar Bosch", "maquina lavar BOSCH") == 1.0
    assert name_similarity("Cabo HDMI preto", "Cabo HDMI branco") == 1.0
    assert name_similarity("", "Anything") == 1.0  # an empty name says nothing
    assert name_similarity("Floor sander", "Sanding pads") == 0.0


def test_different_gtins_for_one_brand_and_part_number_conflict():
    rows = [
        row("A", "Bosch WAN28282", "399", gtin="5600000000059"),
        row("B", "Bosch WAN28282", "389", gtin="5600000000066"),
    ]
    [reason] = identity_conflicts(rows, thresholds=DEFAULTS)
    assert reason.startswith("different GTINs")


def test_one_gtin_spelled_two_ways_is_one_gtin():
    rows = [row("A", "Tissues", "2", gtin="036000291452"), row("B", "Tissues", "2", gtin="0036000291452")]
    assert identity_conflicts(rows, thresholds=DEFAULTS) == []


def test_different_part_numbers_for_one_gtin_conflict():
    rows = [
        row("A", "Galaxy A55", "329", partnumber="SM-A556B"),
        row("B", "Galaxy A55", "329", partnumber="EF-PA556"),
    ]
    [reason] = identity_conflicts(rows, thresholds=DEFAULTS)
    assert reason.startswith("different part numbers")


def test_part_numbers_spelled_differently_are_one_part_number():
    rows = [
        row("A", "Bosch", "399", partnumber="WAN-28282 ES"),
        row("B", "Bosch", "399", partnumber="wan28282es"),
    ]
    assert identity_conflicts(rows, thresholds=DEFAULTS) == []


def test_pack_sizes_in_the_names_conflict_at_any_price():
    rows = [row("1L", "Bona Traffic HD 1L", "36.55"), row("5L", "Bona Traffic HD 5 L", "40.00")]
    [reason] = identity_conflicts(rows, thresholds=DEFAULTS)
    assert "volume" in reason


def test_sizes_are_compared_in_one_unit():
    assert name_variants("Verniz 1L") == name_variants("Verniz 1000 ml")
    assert name_variants("Saco 0,5 kg") == name_variants("Saco 500 g")
    assert name_variants("Verniz 1L") != name_variants("Verniz 5L")


def test_pack_counts_are_variant_words():
    assert name_variants("Pilhas AA 2x")["pack"] == {"2"}
    assert name_variants("Pilhas AA pack of 6")["pack"] == {"6"}
    assert name_variants("Garrafa 2 x 500 ml") == {"pack": {"2"}, "volume": {"500"}}
    assert name_variants("Rolos 12 unid")["pack"] == {"12"}
    assert "pack" not in name_variants("Pilhas AA 1x")


def test_colours_in_portuguese_and_english_are_one_colour():
    assert name_variants("Rato sem fios preto")["colour"] == {"black"}
    assert name_variants("Wireless mouse Black")["colour"] == {"black"}
    rows = [row("B", "Rato sem fios preto", "19"), row("W", "Rato sem fios branco", "19")]
    [reason] = identity_conflicts(rows, thresholds=DEFAULTS)
    assert "colour" in reason


def test_a_size_only_one_name_gives_is_not_a_conflict():
    rows = [row("A", "Lixadora Hummel 230V 2200W", "9792"), row("B", "Lixadora Hummel 230V", "9792")]
    assert identity_conflicts(rows, thresholds=DEFAULTS) == []


def test_the_signature_is_the_sorted_distinct_skus():
    assert identity_signature(["B", "A", "B"]) == ["A", "B"]


def test_a_cost_below_the_median_of_the_others_over_the_factor_is_an_outlier():
    others = [D("9792"), D("9500"), D("9990")]
    assert price_outlier(price=D("11.10"), others=others, factor=D("3")) == D("9792")
    assert price_outlier(price=D("8000"), others=others, factor=D("3")) is None


def test_without_other_offers_nothing_is_an_outlier():
    assert price_outlier(price=D("1"), others=[], factor=D("3")) is None
    assert price_outlier(price=D("1"), others=[D("0")], factor=D("3")) is None


def test_a_released_price_is_not_held_again_until_it_changes_materially():
    others = [D("9792")]
    assert price_outlier(price=D("11.10"), others=others, factor=D("3"), released_price=D("11.10")) is None
    assert price_outlier(price=D("11.50"), others=others, factor=D("3"), released_price=D("11.10")) is None
    assert price_outlier(price=D("5.00"), others=others, factor=D("3"), released_price=D("11.10")) == D(
        "9792"
    )


# -- which product a row is (identity_resolve) ---------------------------------------------------

G1, G2 = "05601234567890", "05609876543210"


def proposal(key, gtin=None, brand=7, pn="PN1", variant="", **fill):
    return ProductProposal(key, gtin, brand, pn.lower(), pn.lower(), variant, fill)


def product(pid, gtin=None, brand=7, pn="pn1", variant="", **fields):
    return {"id": pid, "gtin": gtin, "brand_id": brand, "partnumber": pn, "partnumber_normalized": pn,
            "variant": variant, "name": "", "description": "", "image_url": "", "weight": None,
            "category_id": None, **fields}  # fmt: skip


def test_a_valid_gtin_decides_whatever_the_brand_and_part_number_say():
    plan = identity_resolve(
        proposals=[proposal("A", gtin=G1, brand=9, pn="OTHER")],
        candidates=[product(1, gtin=G1, name="Kept"), product(2, brand=9, pn="other")],
    )
    assert plan.product_of == {"A": 1} and plan.verdicts == {"A": MATCH}


def test_without_a_known_gtin_brand_and_part_number_find_the_oldest_product():
    plan = identity_resolve(
        proposals=[proposal("A")], candidates=[product(5, name="x"), product(3, name="y")]
    )
    assert plan.product_of == {"A": 3}


def test_an_unknown_gtin_matches_only_a_product_without_gtin():
    with_gtin = identity_resolve(proposals=[proposal("A", gtin=G2)], candidates=[product(1, gtin=G1)])
    assert with_gtin.verdicts == {"A": CREATE} and with_gtin.creates == {("gtin", G2): proposal("A", gtin=G2)}
    without = identity_resolve(proposals=[proposal("A", gtin=G2)], candidates=[product(1)])
    assert without.product_of == {"A": 1}
    assert without.fills == {1: {"gtin": G2}} and without.verdicts == {"A": FILL}


def test_a_split_row_is_only_the_product_of_its_own_variant():
    candidates = [product(1), product(2, variant="4:SKU-5")]
    plan = identity_resolve(proposals=[proposal("SKU-5", variant="4:SKU-5")], candidates=candidates)
    assert plan.product_of == {"SKU-5": 2}
    other = identity_resolve(proposals=[proposal("SKU-6", variant="4:SKU-6")], candidates=candidates)
    assert other.create_key_of == {"SKU-6": ("bpn", 7, "pn1", "4:SKU-6")}


def test_rows_of_one_chunk_that_would_create_the_same_product_share_it():
    plan = identity_resolve(
        proposals=[proposal("A", gtin=G1), proposal("B", gtin=G1), proposal("C"), proposal("D", gtin=G2)],
        candidates=[],
    )
    assert plan.create_key_of == {"A": ("gtin", G1), "B": ("gtin", G1), "C": ("gtin", G1), "D": ("gtin", G2)}
    assert list(plan.creates) == [("gtin", G1), ("gtin", G2)]


def test_a_match_fills_only_empty_fields_and_later_rows_see_the_fill():
    plan = identity_resolve(
        proposals=[
            proposal("A", name="First", description="Text"),
            proposal("B", name="Second", weight=D("2")),
        ],
        candidates=[product(1, description="Kept")],
    )
    assert plan.fills == {1: {"name": "First", "weight": D("2")}}
    assert plan.verdicts == {"A": FILL, "B": FILL}


def test_a_match_with_nothing_to_fill_is_a_plain_match():
    plan = identity_resolve(proposals=[proposal("A", name="")], candidates=[product(1, name="Kept")])
    assert plan.fills == {} and plan.verdicts == {"A": MATCH}


def test_a_gtin_a_new_product_claims_is_not_filled_onto_another():
    plan = identity_resolve(
        proposals=[proposal("A", gtin=G1, name="Filled"), proposal("B", gtin=G1, brand=8, pn="X")],
        candidates=[product(1)],
    )
    assert plan.product_of == {"A": 1}
    assert plan.fills == {1: {"name": "Filled"}}  # the descriptive fields only
    assert plan.verdicts == {"A": CONFLICT, "B": CREATE}


def test_two_products_never_get_the_same_gtin_filled():
    plan = identity_resolve(
        proposals=[proposal("A", gtin=G1), proposal("B", gtin=G1, brand=8, pn="X")],
        candidates=[product(1), product(2, brand=8, pn="x")],
    )
    assert plan.fills[1] == {"gtin": G1} and "gtin" not in plan.fills[2]
    assert plan.verdicts == {"A": FILL, "B": CONFLICT}


def test_fill_only_empty_fields():
    current = {"name": "Kept", "description": "", "image_url": None, "weight": None, "brand_id": 3}
    proposed = {
        "name": "Other",
        "description": "New text",
        "image_url": "https://x/y.jpg",
        "weight": D("1.2"),
        "brand_id": 9,
        "category_id": None,
    }
    assert canonical_fill(current=current, proposed=proposed) == {
        "description": "New text",
        "image_url": "https://x/y.jpg",
        "weight": D("1.2"),
    }
