"""Every endpoint: an authenticated staff user, with the model permission the view names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class StaffOnly(BasePermission):
    """Active staff users; anonymous callers get 401 (the view asks for a token), others 403."""

    # DRF's refusal text: lazy by default, a plain string once it names the permission lacking.
    message: StrOrPromise = _("The API is for staff users only.")

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class StaffWithModelPermission(StaffOnly):
    """Staff, plus ``view.read_permission`` for GET/HEAD/OPTIONS and ``view.write_permission``
    for the rest. A view that names none is closed to everyone."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        needed = getattr(
            view, "read_permission" if request.method in SAFE_METHODS else "write_permission", None
        )
        if not needed or not request.user.has_perm(needed):
            self.message = _("Your user lacks the permission this needs: %(permission)s.") % {
                "permission": needed or "-"
            }
            return False
        return True
