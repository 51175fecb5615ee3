"""Identity rules, without a database: when rows that resolved to one product are not one product."""

from decimal import Decimal

from catalog.policies.identity import (
    IdentityRow,
    IdentityThresholds,
    identity_conflicts,
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
