"""GET /api/v1/products/{id or gtin}."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from api.serializers.catalog import ProductSerializer
from api.views.base import ApiView, documented, shown_with
from catalog.selectors import (
    OfferExplanation,
    ProductShopState,
    product_election_explain,
    product_find,
    product_shop_state,
)


class ProductView(ApiView):
    read_permission = "catalog.view_product"

    @extend_schema(
        operation_id="product_get",
        summary="A product: its offers, the active one and why it won, what the shop was sent",
        parameters=[
            OpenApiParameter(
                "reference",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The product's id, or its GTIN (8, 12, 13 or 14 digits).",
            )
        ],
        responses=documented({200: ProductSerializer}, 404),
        tags=["products"],
    )
    def get(self, request: Request, reference: str) -> Response:
        product = product_find(reference=reference)
        if product is None:
            raise NotFound(_("No product with id or GTIN %(reference)s.") % {"reference": reference[:40]})
        state = product_shop_state(product_id=product.pk)
        election = product_election_explain(product=product)
        shown = shown_with(
            product, state=state, election=election, active_offer_why=_active_offer_why(state, election)
        )
        return Response(ProductSerializer(shown).data)


def _active_offer_why(state: ProductShopState, election: list[OfferExplanation]) -> str | None:
    """The election's verdict on the offer that is active now (the recompute may be pending, so
    the active offer is not always today's winner: its verdict then says why it would lose)."""
    active = state.active_offer
    if active is None:
        return None
    for explained in election:
        if explained.supplier_item.pk == active.supplier_item_id:
            return explained.verdict
    return None
