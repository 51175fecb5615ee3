"""The identity-conflict review in the admin: the rows side by side, the three decisions, and the
next ingest respecting each; releasing a price outlier. Real feeds, real ingest, real database."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from catalog.models import DirtyProduct, Product
from procurement.models import FeedRun, IdentityConflict, IdentityRule, SupplierItem
from tests.procurement.test_ingest_identity import SANDER_GROUP, MerchantFeed, ean, item

pytestmark = pytest.mark.django_db
D = Decimal
Hold = SupplierItem.HoldReason
Status = IdentityConflict.Status
CHANGELIST = "admin:procurement_identityconflict_changelist"

PACKS = [
    item("BONA-1", "Bona Traffic HD verniz 1 L", "36.55", brand="Bona", mpn="GT310014"),
    item("BONA-5", "Bona Traffic HD verniz 5 L", "182.76", brand="Bona", mpn="GT310014"),
]


@pytest.fixture
def merchant(feed_server):
    return MerchantFeed(feed_server)


@pytest.fixture
def conflict(merchant):
    merchant.serve(*PACKS)
    merchant.ingest()
    return IdentityConflict.objects.get()


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    """Post an admin action on a conflict; the recompute it schedules after commit runs."""

    def post(client, action, conflict):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse(CHANGELIST), {"action": action, "_selected_action": [conflict.pk]}, follow=True
            )

    return post


def test_the_to_do_list_shows_open_conflicts_with_their_price_range(staff_client, conflict):
    response = staff_client.get(reverse(CHANGELIST))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Bona Traffic HD verniz 1 L" in content  # the product
    assert "36.55 - 182.76" in content


def test_the_conflict_page_shows_the_rows_side_by_side(staff_client, conflict):
    response = staff_client.get(reverse("admin:procurement_identityconflict_change", args=[conflict.pk]))
    content = response.content.decode()
    for text in ("BONA-1", "BONA-5", "Bona Traffic HD verniz 5 L", "182.76", "GT310014", "Identity conflict"):
        assert text in content
    assert "volume" in content  # why they disagree


def test_split_makes_each_sku_a_product_and_the_next_ingest_keeps_them_apart(
    act, staff_client, merchant, conflict
):
    response = act(staff_client, "split", conflict)
    assert "1 conflict split" in response.content.decode()
    conflict.refresh_from_db()
    assert conflict.status == Status.SPLIT and conflict.resolved_by == "operator"
    rule = IdentityRule.objects.get()
    assert (rule.supplier_id, rule.partnumber_normalized) == (merchant.feed.supplier_id, "GT310014")
    one, five = SupplierItem.objects.get(sku="BONA-1"), SupplierItem.objects.get(sku="BONA-5")
    assert one.product_id != five.product_id
    assert (one.hold_reason, five.hold_reason) == ("", "")
    assert one.product.active_offer.unit_cost == D("36.55")
    assert five.product.active_offer.unit_cost == D("182.76")
    assert five.product.name == "Bona Traffic HD verniz 5 L"
    # The next ingest, with a price change and a new pack size, keeps every SKU apart.
    merchant.serve(
        PACKS[0],
        item("BONA-5", "Bona Traffic HD verniz 5 L", "179.90", brand="Bona", mpn="GT310014"),
        item("BONA-10", "Bona Traffic HD verniz 10 L", "350.00", brand="Bona", mpn="GT310014"),
    )
    run = merchant.ingest()
    assert run.status == FeedRun.Status.SUCCESS, run.warnings
    assert run.identity_conflicts == 0
    products = {offer.sku: offer.product_id for offer in SupplierItem.objects.all()}
    assert len(set(products.values())) == 3
    assert products["BONA-5"] == five.product_id
    assert set(SupplierItem.objects.values_list("hold_reason", flat=True)) == {""}


def test_split_leaves_other_suppliers_on_the_original_product(
    act, staff_client, feed_server, merchant, conflict
):
    other = MerchantFeed(feed_server, name="Outro", path="/outro.xml")
    other.serve(item("O-1", "Bona Traffic HD 1 L", "37.00", brand="Bona", mpn="GT310014"))
    other.ingest()
    original = conflict.product_id
    act(staff_client, "split", conflict)
    assert SupplierItem.objects.get(sku="O-1").product_id == original
    other.ingest()
    assert SupplierItem.objects.get(sku="O-1").product_id == original


def test_merge_anyway_releases_the_offers_and_the_same_group_is_not_flagged_again(
    act, staff_client, merchant, conflict
):
    response = act(staff_client, "merge", conflict)
    assert "1 conflict merged" in response.content.decode()
    assert set(SupplierItem.objects.values_list("hold_reason", flat=True)) == {""}
    product = Product.objects.get()
    # The decision's intent is durable: the sweep re-elects the product even after a crash.
    assert DirtyProduct.objects.filter(product=product).exists()
    # Elected from the 1 L offer; as a first price far below the 5 L offer (at the typical
    # margin), the price-jump guard holds it for approval (docs/catalog.md#price-jump-guard).
    from catalog.models import PriceApproval

    held = PriceApproval.objects.get(product=product, status="pending")
    assert (held.unit_cost, held.reasons) == (D("36.55"), ["first_vs_offers"])
    merchant.serve(
        PACKS[0], item("BONA-5", "Bona Traffic HD verniz 5 L", "180.00", brand="Bona", mpn="GT310014")
    )
    run = merchant.ingest()
    assert run.identity_conflicts == 0 and run.status == FeedRun.Status.SUCCESS
    assert set(SupplierItem.objects.values_list("hold_reason", flat=True)) == {""}
    assert IdentityConflict.objects.get().status == Status.ACCEPTED


def test_a_new_sku_joining_a_merged_group_is_a_new_conflict(act, staff_client, merchant, conflict):
    act(staff_client, "merge", conflict)
    merchant.serve(
        *PACKS, item("BONA-10", "Bona Traffic HD verniz 10 L", "350.00", brand="Bona", mpn="GT310014")
    )
    run = merchant.ingest()
    assert run.identity_conflicts == 1
    conflict.refresh_from_db()
    assert conflict.status == Status.OPEN and len(conflict.skus) == 3
    assert SupplierItem.objects.filter(hold_reason=Hold.IDENTITY_CONFLICT).count() == 3


def test_ignore_keeps_the_offers_held_and_off_the_to_do_list(act, staff_client, merchant, conflict):
    response = act(staff_client, "ignore", conflict)
    assert "1 conflict ignored" in response.content.decode()
    assert set(SupplierItem.objects.values_list("hold_reason", flat=True)) == {Hold.IDENTITY_CONFLICT}
    listing = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert "0 identity conflicts" in listing or "Bona Traffic" not in listing
    assert "Bona Traffic" in staff_client.get(reverse(CHANGELIST), {"review": "ignored"}).content.decode()
    merchant.serve(
        PACKS[0], item("BONA-5", "Bona Traffic HD verniz 5 L", "181.00", brand="Bona", mpn="GT310014")
    )
    run = merchant.ingest()
    assert run.identity_conflicts == 0  # dismissed: not counted again
    conflict.refresh_from_db()
    assert conflict.status == Status.IGNORED
    assert set(SupplierItem.objects.values_list("hold_reason", flat=True)) == {Hold.IDENTITY_CONFLICT}


def test_split_is_refused_when_the_rows_have_no_brand_and_part_number(act, staff_client, feed_server):
    feed = MerchantFeed(feed_server, name="SemMarca", path="/sem.xml")
    gtin = ean(66)
    feed.serve(
        item("G-1", "Samsung Galaxy A55", "329.00", brand="", mpn="", gtin=gtin),
        item("G-2", "Capa silicone", "9.90", brand="", mpn="", gtin=gtin),
    )
    feed.ingest()
    conflict = IdentityConflict.objects.get()
    content = act(staff_client, "split", conflict).content.decode()
    assert "no brand and part number" in content
    conflict.refresh_from_db()
    assert conflict.status == Status.OPEN


def test_resolving_needs_the_specific_permission(client, django_user_model, conflict):
    user = django_user_model.objects.create_user(username="viewer", password="x-password-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_identityconflict"))
    client.force_login(user)
    response = client.post(reverse(CHANGELIST), {"action": "merge", "_selected_action": [conflict.pk]})
    assert response.status_code in (200, 302)
    conflict.refresh_from_db()
    assert conflict.status == Status.OPEN
    user.user_permissions.add(Permission.objects.get(codename="resolve_identityconflict"))
    client.post(reverse(CHANGELIST), {"action": "merge", "_selected_action": [conflict.pk]})
    conflict.refresh_from_db()
    assert conflict.status == Status.ACCEPTED


# -- price outliers ---------------------------------------------------------------------------


def test_releasing_an_outlier_is_remembered_until_its_price_changes_materially(
    staff_client, feed_server, django_capture_on_commit_callbacks
):
    other = MerchantFeed(feed_server, name="Outro", path="/outro.xml")
    other.serve(item("O-1", "Lägler Hummel floor sander 230 V", "9792.00"))
    other.ingest()
    cheap = MerchantFeed(feed_server, name="Barato", path="/barato.xml")
    cheap.serve(item("HUM-1", "Lägler Hummel floor sander 230 V", "2500.00"))
    cheap.ingest()
    offer = SupplierItem.objects.get(sku="HUM-1")
    assert offer.hold_reason == Hold.PRICE_OUTLIER
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:procurement_supplieritem_changelist"),
            {"action": "release_outliers", "_selected_action": [offer.pk]},
            follow=True,
        )
    assert "1 offer released" in response.content.decode()
    offer.refresh_from_db()
    assert (offer.hold_reason, offer.hold_released_price) == ("", D("2500"))
    assert Product.objects.get().active_offer.supplier_item_id == offer.pk
    cheap.serve(item("HUM-1", "Lägler Hummel floor sander 230 V", "2450.00"))  # within 10 %
    assert cheap.ingest().price_outliers == 0
    assert SupplierItem.objects.get(sku="HUM-1").hold_reason == ""
    cheap.serve(item("HUM-1", "Lägler Hummel floor sander 230 V", "11.10"))  # a material change
    assert cheap.ingest().price_outliers == 1
    assert SupplierItem.objects.get(sku="HUM-1").hold_reason == Hold.PRICE_OUTLIER


def test_the_sander_group_can_be_reviewed_and_split(act, staff_client, merchant):
    merchant.serve(*SANDER_GROUP)
    merchant.ingest()
    conflict = IdentityConflict.objects.get()
    act(staff_client, "split", conflict)
    sander = SupplierItem.objects.get(sku="HUM-1")
    assert sander.product.active_offer.unit_cost == D("9792")
    assert Product.objects.filter(variant__startswith=f"{merchant.feed.supplier_id}:").count() == 18


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_decision_never_waits_on_an_ingest_writing_the_offers(feed_server):
    """An ingest holds its offers' row locks for a chunk: the decision is refused at once (a wait
    could deadlock with the ingest), changes nothing, and succeeds once the chunk committed."""
    import threading

    from django.db import connection, transaction

    from procurement.services.identity import IdentityDecisionRefused, identity_conflict_merge

    merchant = MerchantFeed(feed_server)
    merchant.serve(*PACKS)
    merchant.ingest()
    conflict = IdentityConflict.objects.get()
    locked, release = threading.Event(), threading.Event()

    def chunk_in_progress():
        try:
            with transaction.atomic():
                list(SupplierItem.objects.select_for_update().filter(sku="BONA-5"))
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    writer = threading.Thread(target=chunk_in_progress)
    writer.start()
    try:
        assert locked.wait(30)
        with pytest.raises(IdentityDecisionRefused, match="try again"):
            identity_conflict_merge(conflict_id=conflict.pk, user="operator")
        conflict.refresh_from_db()
        assert conflict.status == Status.OPEN
    finally:
        release.set()
        writer.join(30)
    identity_conflict_merge(conflict_id=conflict.pk, user="operator")
    conflict.refresh_from_db()
    assert conflict.status == Status.ACCEPTED


def test_the_conflict_page_decides_with_its_own_buttons(
    staff_client, conflict, django_capture_on_commit_callbacks
):
    page = staff_client.get(reverse("admin:procurement_identityconflict_change", args=[conflict.pk]))
    split_url = reverse("admin:procurement_identityconflict_resolve", args=[conflict.pk, "split"])
    assert split_url in page.content.decode()
    assert staff_client.get(split_url).status_code == 302  # a GET decides nothing
    conflict.refresh_from_db()
    assert conflict.status == Status.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(split_url, follow=True)
    assert "1 conflict split" in response.content.decode()
    conflict.refresh_from_db()
    assert conflict.status == Status.SPLIT
    page = staff_client.get(reverse("admin:procurement_identityconflict_change", args=[conflict.pk]))
    assert split_url not in page.content.decode()  # resolved: no more buttons


def test_the_buttons_need_the_resolve_permission(client, django_user_model, conflict):
    user = django_user_model.objects.create_user(username="viewer", password="x-password-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_identityconflict"))
    client.force_login(user)
    merge_url = reverse("admin:procurement_identityconflict_resolve", args=[conflict.pk, "merge"])
    page = client.get(reverse("admin:procurement_identityconflict_change", args=[conflict.pk]))
    assert page.status_code == 200 and merge_url not in page.content.decode()
    assert client.post(merge_url).status_code == 403
    conflict.refresh_from_db()
    assert conflict.status == Status.OPEN
