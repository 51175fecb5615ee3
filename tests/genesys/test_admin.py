"""Every admin page renders for staff and is closed to everyone else."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

FACTORIES = {
    "catalog.Brand": factories.BrandFactory,
    "catalog.Category": factories.CategoryFactory,
    "catalog.Product": factories.ProductFactory,
    "catalog.ProductMeta": factories.ProductMetaFactory,
    "catalog.ProductSupplierEvent": factories.ProductSupplierEventFactory,
    "catalog.ProductActiveOffer": factories.ProductActiveOfferFactory,
    "catalog.CatalogUpdateStream": factories.CatalogUpdateStreamFactory,
    "catalog.DirtyProduct": factories.DirtyProductFactory,
    "catalog.PriceApproval": factories.PriceApprovalFactory,
    "catalog.PriceApprovalNotice": factories.PriceApprovalNoticeFactory,
    "catalog.CurrencyRate": factories.CurrencyRateFactory,
    "procurement.Supplier": factories.SupplierFactory,
    "procurement.SupplierFeed": factories.SupplierFeedFactory,
    "procurement.FeedMapper": factories.FeedMapperFactory,
    "procurement.FeedRun": factories.FeedRunFactory,
    "procurement.SupplierItem": factories.SupplierItemFactory,
    "procurement.IdentityConflict": factories.IdentityConflictFactory,
    "procurement.IdentityRule": factories.IdentityRuleFactory,
    "genesys.WorkerGlobalConfig": factories.WorkerGlobalConfigFactory,
    "genesys.JobKindConfig": factories.JobKindConfigFactory,
    "genesys.JobRun": factories.JobRunFactory,
    "genesys.JobRunLog": factories.JobRunLogFactory,
    "genesys.Notification": factories.NotificationFactory,
    "genesys.NotificationSubscription": factories.NotificationSubscriptionFactory,
    "prestashop.PrestashopCategory": factories.PrestashopCategoryFactory,
    "prestashop.PrestashopManufacturer": factories.PrestashopManufacturerFactory,
}
OUR_APPS = {"catalog", "procurement", "genesys", "prestashop"}
# Tables with no admin page of their own, and where an operator sees them instead.
SHOWN_ELSEWHERE = {
    "catalog.StreamBacklogSample": "the home page's 24 h backlog chart",
    "genesys.KillSwitchChange": "the kill switch page's history",
    "genesys.NotificationDelivery": "the notification page's deliveries",
}


def registered_models():
    return sorted(
        (m for m in admin.site._registry if m._meta.app_label in OUR_APPS),
        key=lambda m: m._meta.label,
    )


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_ours_is_in_the_admin():
    from django.apps import apps

    ours = {m._meta.label for m in apps.get_models() if m._meta.app_label in OUR_APPS} - set(SHOWN_ELSEWHERE)
    assert ours == {m._meta.label for m in registered_models()}
    assert ours == set(FACTORIES)


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_changelist_change_and_add_pages_render_for_staff(staff_client, model):
    obj = FACTORIES[model._meta.label]()
    response = staff_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    response = staff_client.get(admin_url(model, "changelist"), {"q": "x"})
    assert response.status_code == 200
    response = staff_client.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200
    if admin.site._registry[model].has_add_permission(response.wsgi_request):
        assert staff_client.get(admin_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_anonymous_users_are_sent_to_the_login_page(client, model):
    obj = FACTORIES[model._meta.label]()
    for url in [admin_url(model, "changelist"), admin_url(model, "change", obj.pk)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_users_are_refused(client, django_user_model):
    user = django_user_model.objects.create_user(username="customer", password="x" * 16)
    client.force_login(user)
    response = client.get(reverse("admin:catalog_product_changelist"))
    assert response.status_code == 302


def test_product_page_shows_offers_active_offer_meta_and_events(staff_client):
    event = factories.ProductSupplierEventFactory(new_price="123.4500", new_stock=7)
    item = event.supplier_item
    factories.ProductActiveOfferFactory(
        supplier_item=item, unit_cost=item.price, unit_price_sent="148.1400", stock_sent=7
    )
    factories.ProductMetaFactory(product=item.product, key="energy_class", value="A")
    other = factories.SupplierItemFactory(product=item.product, price="130.0000")
    page = staff_client.get(admin_url(type(item.product), "change", item.product.pk)).content.decode()
    assert item.sku in page and other.sku in page
    assert str(other.supplier) in page
    assert "148.1400" in page
    assert "energy_class" in page
    assert "123.4500" in page and "New offer" in page


def test_feed_page_never_shows_credentials(staff_client, monkeypatch):
    monkeypatch.setenv("ACME_TOKEN", "super-secret-token-value")
    feed = factories.SupplierFeedFactory(auth_type="bearer", auth_settings={"token_env": "ACME_TOKEN"})
    for url in [admin_url(type(feed), "change", feed.pk), admin_url(type(feed), "changelist")]:
        page = staff_client.get(url).content.decode()
        assert "super-secret-token-value" not in page
    assert "ACME_TOKEN" in staff_client.get(admin_url(type(feed), "change", feed.pk)).content.decode()


def test_rq_dashboard_in_the_admin_needs_staff(staff_client):
    from django.test import Client

    url = reverse("admin:django_rq_dashboard_changelist")
    assert Client().get(url).status_code == 302
    assert staff_client.get(url).status_code == 200


def test_root_redirects_to_the_admin(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
