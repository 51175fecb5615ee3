"""The admin of notifications: what was sent (read-only), who subscribed, and "my notifications"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from genesys.admin_tools import ReadOnlyAdmin, ReadOnlyInline, status_badge
from genesys.models import Notification, NotificationDelivery, NotificationSubscription
from genesys.notifications.registry import notification_kind, notification_kinds
from genesys.notifications.services import deliveries_retry, subscriptions_for_user, subscriptions_save

SUBSCRIBE_PERMISSION = "genesys.subscribe_notifications"
RETRY_PERMISSION = "genesys.retry_notificationdelivery"


def _kind_label(code: str) -> str:
    try:
        return str(notification_kind(code).label)
    except LookupError:
        return code


class DeliveryInline(ReadOnlyInline):
    model = NotificationDelivery
    fields = (
        "channel",
        "recipients",
        "target",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
    )
    readonly_fields = fields
    show_change_link = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind_label", "subject", "object_key", "throttled", "deliveries_status"]
    list_filter = ["kind", "throttled", "deliveries__status"]
    search_fields = ["subject", "object_key"]
    ordering = ["-created_at", "-id"]
    date_hierarchy = "created_at"
    inlines = [DeliveryInline]
    actions = ["retry_failed"]

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, obj: Notification) -> str:
        return _kind_label(obj.kind)

    @admin.display(description=_("deliveries"))
    def deliveries_status(self, obj: Notification) -> str:
        from django.utils.html import format_html_join

        return format_html_join(
            " ",
            "{} {}",
            (
                (delivery.get_channel_display(), status_badge(delivery.status, delivery.get_status_display()))
                for delivery in obj.deliveries.all()
            ),
        )

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("deliveries")

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RETRY_PERMISSION)  # type: ignore[union-attr]

    @admin.action(description=_("Send failed deliveries again"), permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: Any) -> None:
        ids = list(
            NotificationDelivery.objects.filter(
                notification__in=queryset, status=NotificationDelivery.Status.FAILED
            ).values_list("id", flat=True)
        )
        count = deliveries_retry(delivery_ids=ids)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.", "%(count)d deliveries will be sent again.", count
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )


class SubscriptionsForm(forms.Form):
    """One choice per kind: email at once, in the daily digest, or nothing."""

    def __init__(self, *args: Any, current: dict[str, str], defaults: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in notification_kinds(subscribable_only=True):
            initial = current.get(kind.code) or (
                NotificationSubscription.Channel.EMAIL
                if kind.code in defaults
                else NotificationSubscription.Channel.NONE
            )
            self.fields[kind.code] = forms.ChoiceField(
                label=kind.label,
                help_text=kind.description,
                choices=NotificationSubscription.Channel.choices,
                initial=initial,
            )


@admin.register(NotificationSubscription)
class NotificationSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "kind_label", "channel", "updated_at"]
    list_filter = ["kind", "channel"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, obj: NotificationSubscription) -> str:
        return _kind_label(obj.kind)

    def get_urls(self) -> list:
        return [
            path(
                "mine/",
                self.admin_site.admin_view(self.mine_view),
                name="genesys_notificationsubscription_mine",
            ),
            *super().get_urls(),
        ]

    def mine_view(self, request: HttpRequest) -> HttpResponse:
        """The logged-in user chooses, per kind, how to hear about it."""
        user = request.user
        if not user.has_perm(SUBSCRIBE_PERMISSION):  # type: ignore[union-attr]
            raise PermissionDenied
        email = (getattr(user, "email", "") or "").lower()
        defaults = {
            kind.code
            for kind in notification_kinds(subscribable_only=True)
            if email and email in {address.lower() for address in kind.default_recipients()}
        }
        current = subscriptions_for_user(user=user)
        form = SubscriptionsForm(request.POST or None, current=current, defaults=defaults)
        if request.method == "POST" and form.is_valid():
            changed = subscriptions_save(user=user, choices=form.cleaned_data)
            self.message_user(
                request,
                ngettext("%(count)d choice saved.", "%(count)d choices saved.", changed) % {"count": changed},
                messages.SUCCESS,
            )
            return redirect("admin:genesys_notificationsubscription_mine")
        context = {
            **self.admin_site.each_context(request),
            "title": _("My notifications"),
            "form": form,
            "user_email": getattr(user, "email", ""),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/genesys/notification_subscriptions.html", context)
