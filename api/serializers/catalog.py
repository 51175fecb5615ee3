"""Products as the API shows them: offers, the elected one and why, what the shop was sent."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.common import NamedRefSerializer, margin, money


class OfferSerializer(serializers.Serializer):
    """One supplier offer, with the election's verdict on it."""

    supplier_item_id = serializers.IntegerField(source="supplier_item.pk", read_only=True)
    supplier = NamedRefSerializer(source="supplier_item.supplier", read_only=True)
    feed = NamedRefSerializer(source="supplier_item.feed", read_only=True)
    sku = serializers.CharField(source="supplier_item.sku", read_only=True)
    price = money(source="supplier_item.price", help_text="The feed's price, in the feed's currency.")
    currency = serializers.CharField(read_only=True, help_text="The feed's currency (ISO 4217).")
    stock = serializers.IntegerField(source="supplier_item.stock", read_only=True)
    hold_reason = serializers.CharField(source="supplier_item.hold_reason", read_only=True)
    landed_cost = money(
        allow_null=True, help_text="In the shop's currency; null when none can be worked out."
    )
    landed_explained = serializers.CharField(read_only=True)
    margin = margin()
    price_if_elected = money(allow_null=True)
    won = serializers.BooleanField(read_only=True)
    verdict = serializers.CharField(read_only=True, help_text="Why this offer won or lost the election.")


class ActiveOfferSerializer(serializers.Serializer):
    supplier = NamedRefSerializer(read_only=True)
    supplier_item_id = serializers.IntegerField(read_only=True)
    unit_cost = money(help_text="Landed unit cost, in the shop's currency.")
    margin_applied = margin()
    unit_price_sent = money(help_text="The net price sent to the shop.")
    stock_sent = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class StreamRowSerializer(serializers.Serializer):
    """The shop update waiting to be sent (the catalog's outbox row)."""

    id = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    priority = serializers.IntegerField(read_only=True)
    attempts = serializers.IntegerField(read_only=True)
    payload = serializers.DictField(read_only=True)
    next_attempt_at = serializers.DateTimeField(read_only=True)
    last_error = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class PriceWaitingSerializer(serializers.Serializer):
    """A new price the price-jump guard holds until an operator decides."""

    id = serializers.IntegerField(read_only=True)
    old_price = money(allow_null=True)
    new_price = money()
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    brand = NamedRefSerializer(read_only=True, allow_null=True)
    gtin = serializers.CharField(read_only=True, allow_null=True)
    partnumber = serializers.CharField(read_only=True)
    category = NamedRefSerializer(read_only=True, allow_null=True)
    is_enabled = serializers.BooleanField(read_only=True)
    is_eol = serializers.BooleanField(read_only=True)
    id_ecommerce = serializers.IntegerField(read_only=True, allow_null=True)
    shop_price = money(allow_null=True, help_text="The last net price sent to the shop.")
    price_sent = money(
        source="state.active_offer.unit_price_sent",
        allow_null=True,
        help_text="The active offer's price (what the shop has, or is about to get).",
    )
    active_offer = ActiveOfferSerializer(source="state.active_offer", read_only=True, allow_null=True)
    active_offer_why = serializers.CharField(
        read_only=True, allow_null=True, help_text="Why the active offer won the election."
    )
    offers = OfferSerializer(source="election", many=True, read_only=True)
    pending_stream_row = StreamRowSerializer(
        source="state.pending_stream_row", read_only=True, allow_null=True
    )
    price_waiting = PriceWaitingSerializer(source="state.price_waiting", read_only=True, allow_null=True)
