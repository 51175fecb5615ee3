from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from procurement.models import FeedRun, SupplierFeed
from tests.factories import (
    FeedMapperFactory,
    FeedRunFactory,
    SupplierFactory,
    SupplierFeedFactory,
    SupplierItemFactory,
)

pytestmark = pytest.mark.django_db


def test_sku_is_unique_per_feed_but_not_across_feeds():
    item = SupplierItemFactory(sku="ABC")
    SupplierItemFactory(sku="ABC")  # another feed
    with pytest.raises(IntegrityError), transaction.atomic():
        SupplierItemFactory(sku="ABC", feed=item.feed)


def test_offer_price_and_stock_cannot_be_negative():
    with pytest.raises(IntegrityError), transaction.atomic():
        SupplierItemFactory(price=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        SupplierItemFactory(stock=-3)


def test_only_one_active_mapper_per_feed():
    mapper = FeedMapperFactory()
    FeedMapperFactory(feed=mapper.feed, name="old", is_active=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        FeedMapperFactory(feed=mapper.feed, name="second")


def test_only_one_running_ingest_per_feed():
    feed = SupplierFeedFactory()
    FeedRunFactory(feed=feed, status=FeedRun.Status.RUNNING, finished_at=None)
    FeedRunFactory(feed=feed, status=FeedRun.Status.SUCCESS)
    with pytest.raises(IntegrityError), transaction.atomic():
        FeedRunFactory(feed=feed, status=FeedRun.Status.RUNNING, finished_at=None)


def test_supplier_margin_cannot_be_negative():
    with pytest.raises(IntegrityError), transaction.atomic():
        SupplierFactory(margin=Decimal("-0.05"))


def test_unseen_threshold_is_a_fraction():
    with pytest.raises(IntegrityError), transaction.atomic():
        SupplierFeedFactory(unseen_min_ratio=Decimal("1.5"))


def _feed(**kwargs) -> SupplierFeed:
    return SupplierFeedFactory.build(supplier=SupplierFactory(), **kwargs)


def test_feed_credentials_are_environment_variable_names():
    _feed(auth_type="bearer", auth_settings={"token_env": "ACME_TOKEN"}).full_clean()
    with pytest.raises(ValidationError) as excinfo:
        _feed(auth_type="bearer", auth_settings={"token_env": "s3cr3t value!"}).full_clean()
    assert "auth_settings" in excinfo.value.message_dict


def test_feed_refuses_a_literal_secret_in_auth_settings():
    with pytest.raises(ValidationError) as excinfo:
        _feed(auth_type="basic", auth_settings={"username_env": "U", "password": "hunter2"}).full_clean()
    messages = " ".join(excinfo.value.message_dict["auth_settings"])
    assert "password" in messages and "hunter2" not in messages


def test_feed_auth_type_needs_its_settings():
    with pytest.raises(ValidationError) as excinfo:
        _feed(auth_type="header", auth_settings={"value_env": "KEY"}).full_clean()
    assert "header is required" in " ".join(excinfo.value.message_dict["auth_settings"])


def test_feed_refuses_credentials_in_plain_headers():
    with pytest.raises(ValidationError) as excinfo:
        _feed(headers={"Authorization": "Bearer abc"}).full_clean()
    assert "headers" in excinfo.value.message_dict
    _feed(headers={"Accept": "text/csv"}).full_clean()
