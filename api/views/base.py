"""What every API view shares: authentication and permissions (settings.REST_FRAMEWORK), the
per-token throttle, cursor pagination and the documented error answers."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from django.db import models
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework.pagination import CursorPagination
from rest_framework.views import APIView

from api.serializers.common import ErrorSerializer
from api.throttling import ApiRequestThrottle

_M = TypeVar("_M", bound=models.Model)

ERRORS: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input: `field` names the field at fault."),
    401: OpenApiResponse(ErrorSerializer, description="No token, or an invalid, expired or revoked one."),
    403: OpenApiResponse(ErrorSerializer, description="Not a staff user, or lacking the permission."),
    404: OpenApiResponse(ErrorSerializer, description="No such record."),
    409: OpenApiResponse(ErrorSerializer, description="Conflicts with the record's current state."),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests for this token; see Retry-After."),
}


def documented(ok: dict[int, Any], *codes: int) -> dict[int, Any]:
    """The success answers plus the errors every endpoint can give (401, 403, 429) and ``codes``."""
    return {**ok, **{code: ERRORS[code] for code in sorted({401, 403, 429, *codes})}}


class ApiView(APIView):
    """Base of the API's views: ``read_permission`` guards GET, ``write_permission`` the rest."""

    throttle_classes = [ApiRequestThrottle]
    read_permission: str | None = None
    write_permission: str | None = None


class NewestFirst(CursorPagination):
    """Stable pages however fast new rows arrive: the cursor remembers where the last page ended."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    # Lazy, so each caller reads it in their language: DRF raises NotFound with it, which takes a
    # lazy string, though its stubs type the attribute as a plain str.
    invalid_cursor_message = cast(str, _("Invalid cursor: use the “next” or “previous” link of a page."))


def shown_with(instance: _M, **shown: object) -> _M:
    """``instance`` with what the view worked out for its answer set beside the model's fields,
    under the names the detail serializer reads them by (its fields' ``source``). They are not
    model attributes, so only the serializer, which looks them up by name, sees them; they live
    in this request's memory alone."""
    for name, value in shown.items():
        setattr(instance, name, value)
    return instance


@csrf_exempt  # it changes nothing: every method gets the same 404
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """No such endpoint (or an id that is not a number): the API's 404, in JSON."""
    return JsonResponse({"detail": gettext("No such API endpoint."), "code": "not_found"}, status=404)
