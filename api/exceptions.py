"""One shape for every refusal: ``{"detail", "code"}``, and for invalid input also ``"field"``
(the first field at fault, dotted for nested ones: ``params.supplier_id``) and ``"errors"``
(every field's messages)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.views import exception_handler


class Refused(APIException):
    """A request the job framework (or the API) turned down, naming the field and the reason."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail = _("Refused.")
    default_code = "invalid"

    def __init__(self, *, field: str | None, message: str, code: str, status_code: int) -> None:
        super().__init__(detail=message, code=code)
        self.code = code
        self.field = field
        self.status_code = status_code


def _first_error(errors: Any, prefix: str = "") -> tuple[str | None, str]:
    """The first (field, message) of DRF's nested error structure."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = None if key in ("non_field_errors", "detail") else f"{prefix}{key}"
            field, message = _first_error(value, f"{name}." if name else prefix)
            return field or name, message
    if isinstance(errors, list):
        for index, value in enumerate(errors):
            if isinstance(value, dict | list):
                return _first_error(value, f"{prefix}{index}.")
            return (prefix.rstrip(".") or None), str(value)
    return (prefix.rstrip(".") or None), str(errors)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        field, message = _first_error(exc.detail)
        response.data = {"detail": message, "code": "invalid", "field": field, "errors": exc.detail}
    elif isinstance(exc, Refused):
        response.data = {"detail": str(exc.detail), "code": exc.code, "field": exc.field}
    elif isinstance(exc, APIException):
        detail = exc.detail
        response.data = {"detail": str(detail), "code": getattr(detail, "code", exc.default_code)}
    return response
