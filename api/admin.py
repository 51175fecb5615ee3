"""API tokens in the admin: created here (the token is shown once, on the page after saving),
revoked by an action, never shown again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api.models import ApiToken
from api.services.tokens import api_token_create, api_tokens_revoke
from genesys.admin_tools import status_badge

STATE_LABELS = {"active": _("Active"), "expired": _("Expired"), "revoked": _("Revoked")}
STATE_COLOURS = {"active": "success", "expired": "skipped", "revoked": "failed"}


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "expires_at"]

    def clean_user(self) -> Any:
        user = self.cleaned_data["user"]
        if not user.is_staff or not user.is_active:
            raise forms.ValidationError(_("Only active staff users may use the API."))
        return user

    def clean_expires_at(self) -> Any:
        value = self.cleaned_data.get("expires_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(_("The expiry must be in the future."))
        return value


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "token_id", "state_label", "created_at", "expires_at", "last_used_at"]
    list_filter = ["revoked_at", "expires_at"]
    list_select_related = ["user"]
    search_fields = ["name", "=public_id", "user__username"]
    ordering = ["-created_at", "-id"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]
    readonly_fields = [
        "user",
        "token_id",
        "state_label",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("user", "name", "expires_at")
        return ("user", "name", "token_id", "state_label", "expires_at", *self.readonly_fields[3:])

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else list(self.readonly_fields)

    @admin.display(description=_("token"))
    def token_id(self, obj: ApiToken) -> str:
        return f"gsy_{obj.public_id}_…" if obj.public_id else "—"

    @admin.display(description=_("state"))
    def state_label(self, obj: ApiToken) -> str:
        state = obj.state()
        return status_badge(STATE_COLOURS[state], str(STATE_LABELS[state]))

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        row, token = api_token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data.get("expires_at"),
            by=request.user.get_username(),
        )
        obj.pk, obj.public_id, obj.created_at = row.pk, row.public_id, row.created_at
        obj._state.adding = False
        obj.plaintext_once = token  # only in this request's memory: rendered by response_add

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: Any = None
    ) -> HttpResponse:
        """The page after saving shows the token, once: it is not stored, logged or put in a
        message (messages can travel in a cookie)."""
        token = obj.plaintext_once
        if token is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "token": token,
            "title": _("API token created"),
        }
        response = TemplateResponse(request, "admin/api/apitoken/created.html", context)
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = api_tokens_revoke(
            token_ids=queryset.values_list("pk", flat=True), by=request.user.get_username()
        )
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count) % {"count": count},
            messages.SUCCESS,
        )
