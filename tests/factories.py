"""Factories for every model; they build valid, realistic rows with the fewest arguments."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from api.models import ApiToken
from api.tokens import token_generate
from catalog.gtin import gtin_check_digit
from catalog.models import (
    Brand,
    CatalogUpdateStream,
    Category,
    CurrencyRate,
    DirtyProduct,
    PriceApproval,
    PriceApprovalNotice,
    Product,
    ProductActiveOffer,
    ProductMeta,
    ProductSupplierEvent,
    StreamBacklogSample,
)
from genesys.models import (
    JobKind,
    JobKindConfig,
    JobRun,
    JobRunLog,
    KillSwitchChange,
    Notification,
    NotificationDelivery,
    NotificationSubscription,
    WorkerGlobalConfig,
)
from prestashop.models import PrestashopCategory, PrestashopManufacturer
from procurement.models import (
    FeedMapper,
    FeedRun,
    IdentityConflict,
    IdentityRule,
    Supplier,
    SupplierFeed,
    SupplierItem,
)


def make_gtin(n: int, prefix: str = "560") -> str:
    """A valid, globally-unique-range GTIN stored as 14 digits (Portuguese GS1 prefix 560)."""
    body = f"{prefix}{n:0{12 - len(prefix)}d}"
    return f"{body}{gtin_check_digit(body)}".zfill(14)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Brand {n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    parent = None


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    gtin = factory.Sequence(make_gtin)
    brand = factory.SubFactory(BrandFactory)
    partnumber = factory.Sequence(lambda n: f"PN-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = None


class ProductMetaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductMeta

    product = factory.SubFactory(ProductFactory)
    key = factory.Sequence(lambda n: f"attribute_{n}")
    value = "value"


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Supplier {n}")
    margin = Decimal("0.2000")


class SupplierFeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierFeed

    supplier = factory.SubFactory(SupplierFactory)
    name = factory.Sequence(lambda n: f"feed-{n}")
    source_url = "file:feed.csv"
    format = SupplierFeed.Format.CSV
    format_options = factory.LazyFunction(lambda: {"delimiter": ";"})


class FeedMapperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedMapper

    feed = factory.SubFactory(SupplierFeedFactory)
    name = "default"
    profile = factory.LazyFunction(
        lambda: {"fields": {"sku": "sku", "gtin": "ean", "price": "price", "stock": "stock"}}
    )


class FeedRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedRun

    feed = factory.SubFactory(SupplierFeedFactory)
    status = FeedRun.Status.SUCCESS
    finished_at = factory.LazyFunction(timezone.now)


class SupplierItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierItem

    feed = factory.SubFactory(SupplierFeedFactory)
    supplier = factory.SelfAttribute("feed.supplier")
    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    price = Decimal("100.0000")
    stock = 5


class ProductSupplierEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductSupplierEvent

    supplier_item = factory.SubFactory(SupplierItemFactory)
    product = factory.SelfAttribute("supplier_item.product")
    supplier = factory.SelfAttribute("supplier_item.supplier")
    reason = ProductSupplierEvent.Reason.INIT
    new_price = Decimal("100.0000")
    new_stock = 5


class DirtyProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DirtyProduct

    product = factory.SubFactory(ProductFactory)


class ProductActiveOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductActiveOffer

    supplier_item = factory.SubFactory(SupplierItemFactory)
    product = factory.SelfAttribute("supplier_item.product")
    supplier = factory.SelfAttribute("supplier_item.supplier")
    unit_cost = Decimal("100.0000")
    margin_applied = Decimal("0.2000")
    unit_price_sent = Decimal("120.0000")
    stock_sent = 5


class PriceApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceApproval

    supplier_item = factory.SubFactory(SupplierItemFactory)
    product = factory.SelfAttribute("supplier_item.product")
    supplier = factory.SelfAttribute("supplier_item.supplier")
    old_price = Decimal("120.0000")
    new_price = Decimal("240.0000")
    unit_cost = Decimal("200.0000")
    margin_applied = Decimal("0.2000")
    reasons = factory.LazyFunction(lambda: ["jump"])


class PriceApprovalNoticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceApprovalNotice

    pending = 25
    recipients = 1


class CurrencyRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CurrencyRate

    date = factory.LazyFunction(timezone.localdate)
    currency = "CZK"
    rate = Decimal("0.0399600400")


class CatalogUpdateStreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogUpdateStream

    product = factory.SubFactory(ProductFactory)
    payload = factory.LazyFunction(dict)
    reasons = factory.LazyFunction(lambda: ["manual"])


class WorkerGlobalConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkerGlobalConfig
        django_get_or_create = ("id",)

    id = 1


class JobKindConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobKindConfig
        django_get_or_create = ("kind",)

    kind = JobKind.SUPPLIER_INGEST


class JobRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobRun

    kind = JobKind.SUPPLIER_INGEST
    key = factory.Sequence(lambda n: f"supplier_ingest:{n}")
    status = JobRun.Status.SUCCESS


class JobRunLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobRunLog

    run = factory.SubFactory(JobRunFactory)
    stage = JobRunLog.Stage.START
    message = "started"


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    kind = "run_failed"
    subject = factory.Sequence(lambda n: f"supplier_ingest:{n} failed")
    body = "The job failed on its last attempt."
    object_key = factory.Sequence(lambda n: f"supplier_ingest:{n}")


class NotificationDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationDelivery

    notification = factory.SubFactory(NotificationFactory)
    channel = NotificationDelivery.Channel.EMAIL
    recipients = factory.LazyFunction(lambda: ["ana@example.com"])
    status = NotificationDelivery.Status.FAILED
    attempts = 6
    last_error = "SMTPServerDisconnected: Connection unexpectedly closed"


class NotificationSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationSubscription

    user = factory.SubFactory("tests.factories.UserFactory")
    kind = "run_failed"
    channel = NotificationSubscription.Channel.EMAIL


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.User"
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_staff = True


class PrestashopCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrestashopCategory

    id = factory.Sequence(lambda n: 100 + n)
    id_parent = 2
    name = factory.Sequence(lambda n: f"Shop category {n}")
    full_path = factory.SelfAttribute("name")
    search_path = factory.LazyAttribute(lambda o: o.name.lower())
    depth = 1
    synced_at = factory.LazyFunction(timezone.now)


class PrestashopManufacturerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrestashopManufacturer

    id = factory.Sequence(lambda n: 100 + n)
    name = factory.Sequence(lambda n: f"Maker {n}")
    normalized_name = factory.LazyAttribute(lambda o: o.name.lower())
    synced_at = factory.LazyFunction(timezone.now)


class IdentityConflictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentityConflict

    feed = factory.SubFactory(SupplierFeedFactory)
    product = factory.SubFactory(ProductFactory)
    skus = factory.LazyFunction(lambda: ["A-1", "A-5"])
    reasons = factory.LazyFunction(lambda: ["different volume"])


class IdentityRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentityRule

    supplier = factory.SubFactory(SupplierFactory)
    brand = factory.SubFactory(BrandFactory)
    partnumber = factory.Sequence(lambda n: f"PN-{n:05d}")
    partnumber_normalized = factory.LazyAttribute(lambda rule: rule.partnumber.replace("-", "").upper())


class StreamBacklogSampleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StreamBacklogSample

    pending = 10
    failed = 0
    processing = 0


class KillSwitchChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KillSwitchChange

    workers_enabled = False
    changed_by = "ana"


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token row; its secret is not known (use api_token_create to get a usable token)."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(
        "tests.factories.StaffUserFactory",
    )
    name = factory.Sequence(lambda n: f"script {n}")
    public_id = factory.LazyFunction(lambda: token_generate()[1].public_id)
    secret_hash = factory.LazyFunction(lambda: token_generate()[1].digest)


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.User"
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff-{n}")
    is_staff = True
