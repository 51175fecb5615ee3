"""The role matrix: every admin URL and every admin action, as each role, over HTTP.

The URLs come from the admin site's registry and each model admin's ``get_urls()``, and the
actions from ``get_actions()``, so a new admin, view or action is walked automatically; one that
is not in the tables below fails the test until someone decides who may use it.

Roles: ``none`` (staff without permissions), the four groups of genesys/roles.py, ``superuser``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory
from django.urls import URLPattern, reverse
from django_rq.queues import get_queue_by_index
from rq import Queue, Worker

from tests.factories import (
    ApiTokenFactory,
    BrandFactory,
    CatalogUpdateStreamFactory,
    CategoryFactory,
    CurrencyRateFactory,
    DirtyProductFactory,
    FeedMapperFactory,
    FeedRunFactory,
    IdentityConflictFactory,
    IdentityRuleFactory,
    JobKindConfigFactory,
    JobRunLogFactory,
    NotificationDeliveryFactory,
    NotificationSubscriptionFactory,
    PrestashopCategoryFactory,
    PrestashopManufacturerFactory,
    PriceApprovalFactory,
    PriceApprovalNoticeFactory,
    ProductActiveOfferFactory,
    ProductMetaFactory,
    ProductSupplierEventFactory,
    SupplierItemFactory,
    WorkerGlobalConfigFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ["none", "viewer", "operator", "integrator", "admin", "superuser"]
ALL_STAFF = {"viewer", "operator", "integrator", "admin", "superuser"}
OPERATORS = {"operator", "admin", "superuser"}
INTEGRATORS = {"integrator", "admin", "superuser"}
FEED_PEOPLE = {"operator", "integrator", "admin", "superuser"}
ADMINS = {"admin", "superuser"}

RQ_READ = {
    "django_rq_dashboard_changelist",
    "django_rq_home",
    "django_rq_home_json",
    "django_rq_jobs",
    "django_rq_queue_details",
    "django_rq_finished_jobs",
    "django_rq_failed_jobs",
    "django_rq_scheduled_jobs",
    "django_rq_started_jobs",
    "django_rq_deferred_jobs",
    "django_rq_job_detail",
    "django_rq_result_detail",
    "django_rq_workers",
    "django_rq_worker_details",
    "django_rq_cron_scheduler_detail",
    "django_rq_cron_job_detail",
}
RQ_WRITE = {
    "django_rq_delete_failed_jobs",
    "django_rq_clear",
    "django_rq_requeue_all",
    "django_rq_delete_job",
    "django_rq_requeue_job",
    "django_rq_enqueue_job",
    "django_rq_stop_job",
    "django_rq_confirm_action",
    "django_rq_actions",
}

# Views besides a model's changelist/add/change/history/delete: who may open them.
CUSTOM_VIEWS: dict[str, set[str]] = {
    "genesys_jobrun_log": ALL_STAFF,
    "genesys_notificationsubscription_mine": ALL_STAFF,
    "procurement_supplierfeed_preview": FEED_PEOPLE,
    "procurement_supplierfeed_mapper": INTEGRATORS,  # change_feedmapper + preview_supplierfeed
    "procurement_feedrun_rejected_csv": FEED_PEOPLE,
    "procurement_identityconflict_resolve": OPERATORS,
    "prestashop_prestashopcategory_search": ALL_STAFF,
    "auth_user_password_change": ADMINS,
    "otp_totp_totpdevice_config": ADMINS,
    "otp_totp_totpdevice_qrcode": ADMINS,
    **dict.fromkeys(RQ_READ, ALL_STAFF),
    **dict.fromkeys(RQ_WRITE, OPERATORS),
}
# Views an allowed user reaches but whose object this test cannot make (no cron scheduler, no
# stored result): 404 instead of 200 for them, still 403 for the others.
# And views that only take a POST: a GET by an allowed user is answered without doing anything.
ALLOWED_STATUS = {
    "django_rq_result_detail": 404,
    "django_rq_cron_scheduler_detail": 404,
    "django_rq_cron_job_detail": 404,
    "django_rq_stop_job": 405,
    "django_rq_confirm_action": 302,
    "django_rq_actions": 302,
    "procurement_identityconflict_resolve": 302,  # a GET decides nothing: back to the conflict
}
# Who may run each action (``delete_selected`` is Django's, behind the delete permission).
ACTIONS: dict[tuple[str, str], set[str]] = {
    ("genesys.jobkindconfig", "run_now"): OPERATORS,
    ("genesys.jobkindconfig", "delete_selected"): ADMINS,
    ("genesys.jobrun", "cancel_runs"): OPERATORS,
    ("genesys.notification", "retry_failed"): OPERATORS,
    ("genesys.notificationsubscription", "delete_selected"): ADMINS,
    ("catalog.product", "recompute_now"): OPERATORS,
    ("catalog.product", "enable"): OPERATORS,
    ("catalog.product", "disable"): OPERATORS,
    ("catalog.product", "set_margin"): OPERATORS,
    ("catalog.product", "mark_eol"): OPERATORS,
    ("catalog.product", "unmark_eol"): OPERATORS,
    ("catalog.product", "resync"): OPERATORS,
    ("catalog.product", "delete_selected"): ADMINS,
    ("catalog.productmeta", "delete_selected"): OPERATORS,
    ("catalog.catalogupdatestream", "retry_failed"): OPERATORS,
    ("catalog.priceapproval", "approve"): OPERATORS,
    ("catalog.priceapproval", "reject"): OPERATORS,
    ("catalog.priceapproval", "approve_runs"): OPERATORS,
    ("catalog.currencyrate", "delete_selected"): OPERATORS,
    ("catalog.category", "map_to_shop_category"): OPERATORS,
    ("catalog.category", "map_by_path"): OPERATORS,
    ("catalog.category", "enable_auto_import"): OPERATORS,
    ("catalog.category", "disable_auto_import"): OPERATORS,
    ("catalog.category", "unmap"): OPERATORS,
    ("catalog.category", "delete_selected"): ADMINS,
    ("catalog.brand", "delete_selected"): ADMINS,
    ("procurement.supplier", "ingest_now"): OPERATORS,
    ("procurement.supplier", "ingests_schedule"): OPERATORS,
    ("procurement.supplier", "delete_selected"): ADMINS,
    ("procurement.supplierfeed", "preview_action"): FEED_PEOPLE,
    ("procurement.supplierfeed", "delete_selected"): INTEGRATORS,
    ("procurement.feedmapper", "delete_selected"): INTEGRATORS,
    ("procurement.supplieritem", "release_outliers"): OPERATORS,
    ("procurement.supplieritem", "release_rejected_prices"): OPERATORS,
    ("procurement.identityconflict", "split"): OPERATORS,
    ("procurement.identityconflict", "merge"): OPERATORS,
    ("procurement.identityconflict", "ignore"): OPERATORS,
    ("procurement.identityrule", "delete_selected"): ADMINS,
    ("auth.user", "delete_selected"): ADMINS,
    ("auth.group", "delete_selected"): ADMINS,
    ("axes.accessattempt", "cleanup_expired_attempts"): ADMINS,
    ("axes.accessattempt", "delete_selected"): ADMINS,
    ("axes.accesslog", "delete_selected"): ADMINS,
    ("axes.accessfailurelog", "delete_selected"): ADMINS,
    ("otp_totp.totpdevice", "delete_selected"): ADMINS,
    ("api.apitoken", "revoke"): ADMINS,
    ("api.apitoken", "delete_selected"): ADMINS,
}
# The kill switch: creating (and changing, see the kill-switch tests) the switch needs its own
# permission on top of the model one; seeing it needs only the view permission.
EXTRA_PERMISSIONS = {("genesys.workerglobalconfig", "add"): "genesys.toggle_killswitch"}


@pytest.fixture
def records(django_user_model):
    """One record of every model the admin shows, so every object URL has something to open."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    WorkerGlobalConfigFactory()
    JobKindConfigFactory()
    NotificationDeliveryFactory()
    NotificationSubscriptionFactory()
    log = JobRunLogFactory()
    offer = ProductActiveOfferFactory()
    item = SupplierItemFactory(product=offer.product)
    ProductMetaFactory(product=offer.product)
    ProductSupplierEventFactory(product=offer.product, supplier=item.supplier)
    DirtyProductFactory(product=offer.product)
    CatalogUpdateStreamFactory(product=offer.product)
    run = FeedRunFactory(feed=item.feed, job_run=log.run)
    PriceApprovalFactory(supplier_item=item, run=run)
    PriceApprovalNoticeFactory(run=run)
    CurrencyRateFactory()
    FeedMapperFactory(feed=item.feed)
    IdentityConflictFactory(feed=item.feed, product=offer.product)
    IdentityRuleFactory(supplier=item.supplier)
    BrandFactory()
    CategoryFactory()
    ApiTokenFactory(user=owner_of_token(django_user_model))
    PrestashopCategoryFactory()
    PrestashopManufacturerFactory()
    owner = django_user_model.objects.create_user(username="device-owner", is_staff=True)
    TOTPDevice.objects.create(user=owner, name="phone", confirmed=False)
    now = timezone.now()
    AccessAttempt.objects.create(
        username="x", ip_address="192.0.2.1", failures_since_start=1, attempt_time=now
    )
    AccessLog.objects.create(username="x", ip_address="192.0.2.1", attempt_time=now)
    AccessFailureLog.objects.create(username="x", ip_address="192.0.2.1", attempt_time=now)
    assert Group.objects.filter(name__in=["viewer", "operator", "integrator", "admin"]).count() == 4
    rq_queue = get_queue_by_index(0)  # django-rq's queue defers enqueues to the commit: use RQ's own
    queue = Queue(rq_queue.name, connection=rq_queue.connection, serializer=rq_queue.serializer)
    worker = Worker([queue], connection=rq_queue.connection, name="matrix-worker")
    worker.register_birth()  # a worker record to show (no process: nothing runs the job)
    return {"job_id": queue.enqueue("genesys.jobs.runner.job_execute", 1).id, "worker_key": worker.key}


def owner_of_token(user_model):
    return user_model.objects.create_user(username="token-owner", is_staff=True)


def _standard_suffix(name: str, model) -> str | None:
    prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
    suffix = name.removeprefix(prefix)
    return (
        suffix
        if name.startswith(prefix) and suffix in {"changelist", "add", "change", "history", "delete"}
        else None
    )


def _admin_urls(records: dict) -> list[tuple[str, str, object]]:
    """(url name, url, model) for every named admin URL of every registered model."""
    urls = []
    for model, model_admin in admin.site._registry.items():
        obj = model._default_manager.order_by("pk").first() if model._meta.managed else None
        seen = set()
        for pattern in model_admin.get_urls():
            if not isinstance(pattern, URLPattern) or not pattern.name or pattern.name in seen:
                continue
            seen.add(pattern.name)
            converters = getattr(pattern.pattern, "converters", {})
            kwargs = {}
            for arg in converters:
                if arg in ("object_id", "pk", "id", "run_id", "feed_id", "conflict_id"):
                    assert obj is not None, f"no {model._meta.label} record for {pattern.name}"
                    kwargs[arg] = obj.pk
                elif arg in ("queue_index", "connection_index", "scheduler_index"):
                    kwargs[arg] = 0
                elif arg == "job_id":
                    kwargs[arg] = records["job_id"]
                elif arg == "key":
                    kwargs[arg] = records["worker_key"]
                else:
                    kwargs[arg] = "missing"
            urls.append((pattern.name, reverse(f"admin:{pattern.name}", kwargs=kwargs), model))
    return urls


def _expected_allowed(name: str, model, user) -> bool | None:
    """Whether ``user`` may open the URL; None for a view the superuser cannot open either."""
    suffix = _standard_suffix(name, model)
    if suffix is None:
        assert name in CUSTOM_VIEWS, f"{name}: a new admin view; add it to CUSTOM_VIEWS with its roles"
        return None
    label = f"{model._meta.app_label}.{model._meta.model_name}"
    needed = {"changelist": "view", "history": "view", "change": "view", "add": "add", "delete": "delete"}[
        suffix
    ]
    perms = [f"{model._meta.app_label}.{needed}_{model._meta.model_name}"]
    if needed == "view":
        perms.append(f"{model._meta.app_label}.change_{model._meta.model_name}")
    allowed = any(user.has_perm(p) for p in perms)
    extra = EXTRA_PERMISSIONS.get((label, suffix))
    if extra:
        allowed = allowed and user.has_perm(extra)
    return allowed


def _clients(role_user) -> dict[str, tuple[Client, object]]:
    clients = {}
    for role in ROLES:
        user = role_user(role)
        client = Client()
        client.force_login(user)
        clients[role] = (client, user)
    return clients


def test_every_admin_url_answers_200_to_who_may_use_it_and_403_to_everyone_else(records, role_user):
    clients = _clients(role_user)
    problems = []
    walked = 0
    for name, url, model in _admin_urls(records):
        baseline = clients["superuser"][0].get(url).status_code
        for role, (client, user) in clients.items():
            status = client.get(url).status_code
            walked += 1
            if name in CUSTOM_VIEWS:
                allowed = role in CUSTOM_VIEWS[name]
                expected = ALLOWED_STATUS.get(name, 200) if allowed else 403
            else:
                allowed = _expected_allowed(name, model, user)
                expected = (baseline if baseline == 403 else 200) if allowed else 403
            if status != expected:
                problems.append(f"{role:>10} GET {url} ({name}): {status}, expected {expected}")
    assert not problems, "\n".join(problems)
    assert walked > 6 * 100  # every registered admin, not a handful


def _action_refused(response) -> bool:
    """403; Django's "No action selected." (the action is not offered to this user); or the plain
    changelist again (this user is offered no action at all). A run action redirects with its
    own message or answers its own page (a confirmation, a form)."""
    if response.status_code == 403:
        return True
    if response.status_code == 302:
        return any("No action selected" in str(m) for m in get_messages(response.wsgi_request))
    return response.status_code == 200 and "cl" in (response.context or {})


def test_every_admin_action_runs_only_for_who_may_use_it(records, role_user):
    clients = _clients(role_user)
    superuser_request = RequestFactory().get("/")
    superuser_request.user = clients["superuser"][1]
    problems = []
    for model, model_admin in admin.site._registry.items():
        if not model._meta.managed:
            continue
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        obj = model._default_manager.order_by("pk").first()
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for action in model_admin.get_actions(superuser_request):
            assert (label, action) in ACTIONS, f"{label}.{action}: a new action; add it to ACTIONS"
            for role in ROLES:
                client = Client()  # a fresh one: messages left by the previous action would mislead
                client.force_login(clients[role][1])
                response = client.post(
                    changelist, {"action": action, "_selected_action": [obj.pk], "index": 0}
                )
                refused = _action_refused(response)
                if refused == (role in ACTIONS[(label, action)]):
                    verb = "refused" if refused else "ran"
                    problems.append(f"{role:>10} {label}.{action}: {verb} ({response.status_code})")
    assert not problems, "\n".join(problems)


def test_the_role_groups_are_what_the_docs_say(role_user):
    """A few powers spelled out, as docs/security.md lists them."""
    users = {role: role_user(role) for role in ROLES}
    has: Callable[[str, str], bool] = lambda role, perm: users[role].has_perm(perm)  # noqa: E731
    assert not has("none", "genesys.view_jobrun")
    assert has("viewer", "catalog.view_product") and not has("viewer", "catalog.change_product")
    assert has("operator", "catalog.approve_prices") and has("operator", "genesys.toggle_killswitch")
    assert has("operator", "catalog.enable_products") and has("operator", "catalog.resync_products")
    assert not has("viewer", "catalog.enable_products") and not has(
        "integrator", "catalog.set_product_margins"
    )
    assert not has("operator", "procurement.change_supplierfeed")
    assert has("integrator", "procurement.change_supplierfeed") and not has("integrator", "genesys.run_jobs")
    assert not has("integrator", "catalog.approve_prices")
    assert has("admin", "auth.change_user") and has("admin", "genesys.manage_queues")
    assert has("operator", "genesys.run_jobs") and has("operator", "genesys.cancel_jobs")
    assert has("admin", "genesys.cancel_jobs") and not has("viewer", "genesys.cancel_jobs")
    assert not has("integrator", "genesys.cancel_jobs")
    assert has("admin", "api.add_apitoken") and has("admin", "api.change_apitoken")
    assert not any(has(role, "api.view_apitoken") for role in ("viewer", "operator", "integrator"))
