"""The price-jump guard in the catalog step, the approval queue and its way to the (fake) shop."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from catalog.models import CatalogUpdateStream, PriceApproval, Product, ProductActiveOffer
from catalog.services.approvals import (
    price_approvals_approve,
    price_approvals_approve_run,
    price_approvals_reject,
    rejected_offers_release,
)
from catalog.services.dirty import dirty_products_drain, products_mark_dirty
from catalog.services.offers import Reason, active_offers_recompute
from prestashop.fake import running_fake_shop
from prestashop.r_genesys import RGenesysClient
from prestashop.services.sync import stream_drain
from procurement.models import SupplierItem
from tests.factories import (
    CategoryFactory,
    FeedRunFactory,
    ProductFactory,
    SupplierFactory,
    SupplierFeedFactory,
    SupplierItemFactory,
)
from tests.prestashop.conftest import make_config
from tests.support.jobs import jobs_work

pytestmark = pytest.mark.django_db
D = Decimal
Status = PriceApproval.Status


@pytest.fixture
def shop():
    with running_fake_shop() as fake:
        client = RGenesysClient(config=make_config(fake, "r_genesys"))
        fake.send = lambda: stream_drain(client=client)
        yield fake
        client.close()


def in_shop(shop, *, price="100", stock=5, **fields) -> Product:
    """A product the shop knows, priced and sent: 100 + 20 % = 120.00 in the shop."""
    shop_id = shop.add_product(reference=f"R{len(shop.products())}", price="1", quantity=0, active=True)
    product = ProductFactory(id_ecommerce=shop_id, **fields)
    SupplierItemFactory(product=product, price=D(price), stock=stock)
    recompute(product)
    shop.send()
    return product


def recompute(*products, reason=Reason.INGEST):
    return active_offers_recompute(product_ids=[p.pk for p in products], reason=reason)


def offer_of(product) -> SupplierItem:
    return SupplierItem.objects.get(product=product, supplier__name__startswith="Supplier")


def set_offer(product, *, price, stock=None) -> None:
    fields = {"price": D(price)} if stock is None else {"price": D(price), "stock": stock}
    SupplierItem.objects.filter(pk=offer_of(product).pk).update(**fields)


def in_the_shop(shop, product):
    fake = shop.product(product.id_ecommerce)
    return fake.price, fake.quantity, fake.active


def test_a_jump_waits_for_approval_while_stock_still_reaches_the_shop(shop):
    product = in_shop(shop)
    assert in_the_shop(shop, product) == (D("120.00"), 5, True)
    set_offer(product, price="50", stock=9)  # the supplier halves its price: 60.00 would go out

    result = recompute(product)

    assert result.prices_held == 1
    approval = PriceApproval.objects.get(product=product)
    assert (approval.status, approval.old_price, approval.new_price) == (Status.PENDING, D("120"), D("60"))
    assert (approval.supplier_item_id, approval.unit_cost, approval.reasons) == (
        offer_of(product).pk,
        D("50"),
        ["jump"],
    )
    active = ProductActiveOffer.objects.get(product=product)
    assert (active.unit_price_sent, active.stock_sent, active.unit_cost) == (D("120"), 9, D("50"))
    shop.send()
    assert in_the_shop(shop, product) == (D("120.00"), 9, True)  # the old price, the new stock


def test_a_stock_out_is_never_held_back(shop):
    product = in_shop(shop)
    set_offer(product, price="50")
    recompute(product)
    shop.send()
    set_offer(product, price="50", stock=0)
    recompute(product)
    shop.send()
    assert in_the_shop(shop, product) == (D("120.00"), 0, True)
    assert PriceApproval.objects.filter(status=Status.PENDING).count() == 1


def test_while_a_higher_cost_waits_the_old_price_would_sell_at_a_loss_so_no_stock_is_sent(shop):
    product = in_shop(shop)
    set_offer(product, price="200", stock=7)
    recompute(product)
    shop.send()
    assert in_the_shop(shop, product) == (D("120.00"), 0, True)


def test_approving_sends_the_new_price_through_the_stream(shop):
    product = in_shop(shop)
    set_offer(product, price="50", stock=9)
    recompute(product)
    shop.send()
    approval = PriceApproval.objects.get()

    result = price_approvals_approve(approval_ids=[approval.pk], user="ana")

    assert (result.decided, result.sent, result.stream_rows) == (1, 1, 1)
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (Status.APPROVED, "ana")
    assert approval.applied_at is not None
    row = CatalogUpdateStream.objects.get(status="pending")
    assert row.reasons == [Reason.PRICE_APPROVED] and row.payload["shop"]["price"] == "60.00"
    shop.send()
    assert in_the_shop(shop, product) == (D("60.00"), 9, True)
    product.refresh_from_db()
    assert product.shop_price == D("60")
    recompute(product)  # nothing more to decide
    assert not PriceApproval.objects.filter(status=Status.PENDING).exists()


def test_rejecting_holds_the_offer_and_elects_the_product_without_it(shop):
    product = in_shop(shop)
    other = SupplierItemFactory(product=product, price=D("105"), stock=2, feed=SupplierFeedFactory(
        supplier=SupplierFactory(name="Backup Lda")))  # fmt: skip
    recompute(product)
    shop.send()
    assert in_the_shop(shop, product) == (D("120.00"), 5, True)
    set_offer(product, price="40")  # cheaper than the backup: it would win at 48.00
    recompute(product)
    approval = PriceApproval.objects.get()

    price_approvals_reject(approval_ids=[approval.pk], user="ana", reason="price error at the supplier")

    approval.refresh_from_db()
    assert (approval.status, approval.decision_note) == (Status.REJECTED, "price error at the supplier")
    held = offer_of(product)
    assert held.hold_reason == SupplierItem.HoldReason.PRICE_REJECTED
    assert "price error at the supplier" in held.hold_note and held.held_at is not None
    active = ProductActiveOffer.objects.get(product=product)
    assert (active.supplier_item_id, active.unit_price_sent) == (other.pk, D("126"))
    shop.send()
    assert in_the_shop(shop, product) == (D("126.00"), 2, True)  # never 48.00
    assert not PriceApproval.objects.filter(status=Status.PENDING).exists()


def test_releasing_a_rejected_hold_puts_the_price_back_in_the_queue_not_in_the_shop(shop):
    product = in_shop(shop)
    recompute(product)
    shop.send()
    set_offer(product, price="40")
    recompute(product)
    price_approvals_reject(
        approval_ids=[PriceApproval.objects.get().pk], user="ana", reason="price error at the supplier"
    )

    assert rejected_offers_release(item_ids=[offer_of(product).pk], user="rui") == 1

    released = offer_of(product)
    assert (released.hold_reason, released.held_at) == ("", None)
    assert PriceApproval.objects.get(status=Status.PENDING).new_price == D("48.00")
    shop.send()
    assert in_the_shop(shop, product)[0] == D("120.00")  # judged again, not sent
    assert rejected_offers_release(item_ids=[released.pk], user="rui") == 0  # only rejected holds


def test_rejecting_the_only_offer_leaves_the_shop_price_unsent_and_the_product_inactive(shop):
    product = in_shop(shop)
    set_offer(product, price="40")
    recompute(product)
    price_approvals_reject(approval_ids=[PriceApproval.objects.get().pk], user="ana", reason="wrong")
    shop.send()
    assert in_the_shop(shop, product) == (D("120.00"), 0, False)


def test_a_rejection_needs_a_reason():
    with pytest.raises(ValueError):
        price_approvals_reject(approval_ids=[1], user="ana", reason="  ")


def test_a_newer_proposal_supersedes_the_pending_one_and_a_price_back_in_limits_withdraws_it(shop):
    product = in_shop(shop)
    set_offer(product, price="50")
    recompute(product)
    recompute(product)  # the same proposal again: still one row
    first = PriceApproval.objects.get()
    set_offer(product, price="40")
    recompute(product)
    first.refresh_from_db()
    assert first.status == Status.SUPERSEDED
    second = PriceApproval.objects.get(status=Status.PENDING)
    assert second.new_price == D("48")

    set_offer(product, price="110")  # 132.00: within 40 % of the 120.00 the shop has
    recompute(product)
    second.refresh_from_db()
    assert second.status == Status.SUPERSEDED
    shop.send()
    assert in_the_shop(shop, product)[0] == D("132.00")


def test_approving_a_price_the_offers_no_longer_give_checks_the_new_one_again(shop):
    product = in_shop(shop)
    set_offer(product, price="50")
    recompute(product)
    approval = PriceApproval.objects.get()
    set_offer(product, price="30")  # changed after the proposal, before the drain ran

    result = price_approvals_approve(approval_ids=[approval.pk], user="ana")

    assert (result.decided, result.sent) == (1, 0)
    approval.refresh_from_db()
    assert approval.status == Status.SUPERSEDED and approval.decided_by == "ana"
    assert PriceApproval.objects.get(status=Status.PENDING).new_price == D("36")
    shop.send()
    assert in_the_shop(shop, product)[0] == D("120.00")


def test_a_drain_records_the_run_and_approve_all_of_a_run_sends_them(shop):
    products = [in_shop(shop) for _ in range(3)]
    run = FeedRunFactory()
    for product in products:
        set_offer(product, price="300")
    set_offer(products[2], price="110")  # within limits
    products_mark_dirty(product_ids=[p.pk for p in products], run_id=run.pk)

    drained = dirty_products_drain()

    assert drained.prices_held == 2
    assert set(PriceApproval.objects.values_list("run_id", flat=True)) == {run.pk}
    result = price_approvals_approve_run(run_id=run.pk, user="ana")
    assert (result.decided, result.sent) == (2, 2)
    shop.send()
    assert [in_the_shop(shop, p)[0] for p in products] == [D("360.00"), D("360.00"), D("132.00")]


def test_a_first_price_far_from_the_products_other_offers_is_held_and_nothing_is_sold():
    # One part number, three different items: a floor sander, a machine and pads (issue #11).
    product = ProductFactory()
    pads = SupplierItemFactory(product=product, price=D("11.10"), stock=40)
    SupplierItemFactory(product=product, price=D("9792"), stock=0)
    SupplierItemFactory(product=product, price=D("2892"), stock=0)

    recompute(product)

    approval = PriceApproval.objects.get(product=product)
    assert (approval.old_price, approval.new_price, approval.supplier_item) == (None, D("13.32"), pads)
    assert approval.reasons == ["first_vs_offers"] and approval.change is None
    assert not ProductActiveOffer.objects.filter(product=product).exists()


def test_a_first_price_at_a_normal_margin_goes_straight_through():
    product = ProductFactory()
    SupplierItemFactory(product=product, price=D("100"), stock=3)
    SupplierItemFactory(product=product, price=D("104"), stock=3)
    recompute(product)
    assert ProductActiveOffer.objects.get(product=product).unit_price_sent == D("120")
    assert not PriceApproval.objects.exists()


def test_a_product_whose_offers_went_away_is_checked_against_the_price_the_shop_still_has(shop):
    product = in_shop(shop)
    SupplierItem.objects.filter(product=product).update(hold_reason="identity_conflict")
    recompute(product)
    assert not ProductActiveOffer.objects.filter(product=product).exists()
    SupplierItem.objects.filter(product=product).update(hold_reason="", price=D("300"))
    recompute(product)
    approval = PriceApproval.objects.get()
    assert (approval.old_price, approval.new_price, approval.reasons) == (D("120"), D("360"), ["jump"])


def test_a_category_may_allow_bigger_jumps_and_set_its_own_floor(shop):
    loose = CategoryFactory(price_change_limit=D("2"))
    child = CategoryFactory(parent=loose)
    product = in_shop(shop, category=child)
    set_offer(product, price="250")
    recompute(product)
    assert not PriceApproval.objects.exists()

    strict = CategoryFactory(min_margin=D("0.30"))  # the 20 % margin is below its floor
    other = in_shop(shop, category=strict)
    assert PriceApproval.objects.get(product=other).reasons == ["floor"]


def test_the_global_limit_is_a_setting(shop, settings):
    settings.GENESYS_PRICE_CHANGE_LIMIT = D("0.10")
    product = in_shop(shop)
    set_offer(product, price="115")  # 138.00: +15 %
    recompute(product)
    assert PriceApproval.objects.get().reasons == ["jump"]


# -- notification ---------------------------------------------------------------------------------


@pytest.fixture
def approvers(django_user_model, settings):
    settings.ADMINS = [("", "admins@example.com")]
    settings.GENESYS_PRICE_APPROVAL_EMAILS = ["pricing@example.com"]
    settings.GENESYS_PRICE_APPROVAL_NOTIFY_ABOVE = 1
    approver = django_user_model.objects.create_user("ana", "ana@example.com", is_staff=True)
    approver.user_permissions.add(Permission.objects.get(codename="approve_prices"))
    django_user_model.objects.create_user("rui", "rui@example.com", is_staff=True)  # may not approve
    django_user_model.objects.create_user("eva", "eva@example.com", is_staff=False, is_superuser=True)
    return approver


def held_in_a_run(shop, count: int):
    run = FeedRunFactory()
    products = [in_shop(shop) for _ in range(count)]
    for product in products:
        set_offer(product, price="300")
    products_mark_dirty(product_ids=[p.pk for p in products], run_id=run.pk)
    dirty_products_drain()
    return run


def test_a_run_holding_more_than_n_prices_emails_the_approvers_once_per_window(shop, approvers):
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = held_in_a_run(shop, 2)
    assert mail.outbox == []  # delivered after commit, by the notify queue
    jobs_work("notify")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["admins@example.com", "ana@example.com", "pricing@example.com"]
    assert "2 prices wait" in message.subject
    assert f"#{run.pk}" in message.body and "/admin/catalog/priceapproval/" in message.body

    with TestCase.captureOnCommitCallbacks(execute=True):
        held_in_a_run(shop, 3)  # within the throttle window: the home page shows it, no new email
    jobs_work("notify")
    assert len(mail.outbox) == 1


def test_a_run_holding_n_prices_or_fewer_sends_nothing(shop, approvers):
    with TestCase.captureOnCommitCallbacks(execute=True):
        held_in_a_run(shop, 1)
    jobs_work("notify")
    assert mail.outbox == []


# -- the admin ------------------------------------------------------------------------------------


@pytest.fixture
def pending(shop):
    product = in_shop(shop)
    set_offer(product, price="50")
    recompute(product)
    return PriceApproval.objects.get()


def changelist():
    return reverse("admin:catalog_priceapproval_changelist")


def test_the_queue_shows_old_and_new_price_change_costs_offer_supplier_and_run(staff_client, pending):
    page = staff_client.get(changelist(), {"status__exact": "pending"}).content.decode()
    assert "120.0000" in page and "60.0000" in page and "-50.0 %" in page
    assert "50.0000 EUR" in page  # the cost as the feed gave it
    assert pending.supplier_item.sku in page and str(pending.supplier) in page


def test_approve_and_reject_from_the_admin(staff_client, pending, shop):
    response = staff_client.post(changelist(), {"action": "approve", "_selected_action": [pending.pk]})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Status.APPROVED and pending.decided_by == "operator"


def test_rejecting_in_the_admin_asks_for_a_reason(staff_client, pending):
    form = staff_client.post(changelist(), {"action": "reject", "_selected_action": [pending.pk]})
    assert form.status_code == 200 and "Reason" in form.content.decode()
    done = staff_client.post(
        changelist(),
        {"action": "reject", "_selected_action": [pending.pk], "apply": "1", "reason": "supplier typo"},
    )
    assert done.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.decision_note) == (Status.REJECTED, "supplier typo")


def test_deciding_needs_the_approve_permission(client, django_user_model, pending):
    viewer = django_user_model.objects.create_user("rui", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_priceapproval"))
    client.force_login(viewer)
    page = client.get(changelist()).content.decode()
    assert 'value="approve"' not in page
    client.post(changelist(), {"action": "approve", "_selected_action": [pending.pk]})
    client.post(
        changelist(), {"action": "reject", "_selected_action": [pending.pk], "apply": "1", "reason": "x"}
    )
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_the_home_page_shows_what_needs_an_operator(staff_client, pending):
    SupplierItemFactory(hold_reason=SupplierItem.HoldReason.IDENTITY_CONFLICT)
    SupplierItemFactory(hold_reason=SupplierItem.HoldReason.IDENTITY_CONFLICT)
    page = staff_client.get(reverse("admin:index")).content.decode()
    assert "Needs you" in page
    assert f"{changelist()}?status__exact=pending" in page
    assert "?hold_reason__exact=identity_conflict" in page
    block = page[page.index('id="needs-you"') :]
    assert "Prices waiting for approval" in block and ">1<" in block and ">2<" in block


def test_the_product_page_shows_the_shop_price_and_the_price_waiting(staff_client, pending):
    page = staff_client.get(
        reverse("admin:catalog_product_change", args=[pending.product_id])
    ).content.decode()
    assert "120.0000 → 60.0000" in page
    listed = staff_client.get(changelist(), {"product__id__exact": pending.product_id})
    assert listed.status_code == 200 and pending.supplier_item.sku in listed.content.decode()
