"""The four roles operators are given, as Django groups with an explicit permission list.

Permissions are named ``app_label.codename``; a role lists them by hand so that granting a new
power is a reviewed change here (and in docs/security.md), never a side effect of a new model.
``roles_sync`` makes each group hold exactly its list: run by a data migration and by
``manage.py roles_sync`` (after an upgrade that adds permissions). Other groups are left alone.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

# The apps whose records the back office shows; "viewer" reads every model of these.
DOMAIN_APPS = ("genesys", "catalog", "procurement", "prestashop")

VIEWER = (
    "view_model:genesys",
    "view_model:catalog",
    "view_model:procurement",
    "view_model:prestashop",
    "genesys.view_queues",
    # chooses which notifications reach them, and how (genesys/notifications)
    "genesys.subscribe_notifications",
)

OPERATOR = (
    *VIEWER,
    # runs and cancels jobs, stops everything in an emergency, handles the RQ queues
    "genesys.run_jobs",
    "genesys.cancel_jobs",
    "genesys.change_workerglobalconfig",
    "genesys.add_workerglobalconfig",
    "genesys.toggle_killswitch",
    "genesys.manage_queues",
    "genesys.retry_notificationdelivery",
    # approves prices, edits products and their meta, maps categories and brands
    "catalog.approve_prices",
    "catalog.change_product",
    "catalog.enable_products",
    "catalog.set_product_margins",
    "catalog.mark_products_eol",
    "catalog.resync_products",
    "catalog.add_productmeta",
    "catalog.change_productmeta",
    "catalog.delete_productmeta",
    "catalog.change_category",
    "catalog.change_brand",
    "catalog.retry_catalogupdatestream",
    # corrects exchange rates by hand (the rates job fills them)
    "catalog.add_currencyrate",
    "catalog.change_currencyrate",
    "catalog.delete_currencyrate",
    # looks into feeds and what they rejected
    "procurement.preview_supplierfeed",
    "procurement.download_rejected_rows",
    # decides on held offers: identity conflicts (split, merge, ignore) and price outliers
    "procurement.resolve_identityconflict",
    "procurement.release_supplieritem",
)

INTEGRATOR = (
    *VIEWER,
    # suppliers, feeds and their mappers; the mapper editor (the feed's page) needs both
    # change_feedmapper and preview_supplierfeed (it reads the feed's sample from the web process)
    "procurement.add_supplier",
    "procurement.change_supplier",
    "procurement.add_supplierfeed",
    "procurement.change_supplierfeed",
    "procurement.delete_supplierfeed",
    "procurement.add_feedmapper",
    "procurement.change_feedmapper",
    "procurement.delete_feedmapper",
    "procurement.preview_supplierfeed",
    "procurement.download_rejected_rows",
    # how jobs run (schedules, concurrency, retries): the worker side of the shop settings
    "genesys.change_jobkindconfig",
)

ADMIN = (
    "all_models:genesys",
    "all_models:catalog",
    "all_models:procurement",
    "all_models:prestashop",
    "all_models:auth",
    "all_models:axes",
    "all_models:otp_totp",
    "all_models:django_rq",
    # API tokens (docs/api.md): create, revoke, see when they were last used
    "all_models:api",
)

ROLES: dict[str, tuple[str, ...]] = {
    "viewer": VIEWER,
    "operator": OPERATOR,
    "integrator": INTEGRATOR,
    "admin": ADMIN,
}


def role_permission_keys(*, role: str, available: set[str], strict: bool = True) -> set[str]:
    """The ``app_label.codename`` permissions of ``role``, with the ``*:app`` patterns expanded.

    Raises ``LookupError`` naming a listed permission that does not exist (a typo or a model
    renamed), so a role never silently loses a power; unless not ``strict`` (a migration, see
    ``roles_sync``), which leaves out the permissions a later migration creates.
    """
    keys: set[str] = set()
    for entry in ROLES[role]:
        if entry.startswith(("view_model:", "all_models:")):
            kind, app_label = entry.split(":", 1)
            matched = {
                key
                for key in available
                if key.startswith(f"{app_label}.")
                and (kind == "all_models" or key.split(".", 1)[1].startswith("view_"))
            }
            if not matched and strict:
                raise LookupError(f"role {role}: no permissions found for {entry}")
            keys |= matched
        elif entry in available:
            keys.add(entry)
        elif strict:
            raise LookupError(f"role {role}: unknown permission {entry}")
    return keys


def roles_sync(*, apps: Any = None) -> dict[str, int]:
    """Create the role groups and give each exactly its permissions; returns the count per role.

    ``apps`` is a migration's historical registry (or None for the live models). A migration
    runs before the later ones that add permissions (genesys 0005 before 0009 adds
    ``cancel_jobs``): it gives the permissions that exist then, and the migration that adds a
    permission syncs the roles again; ``manage.py roles_sync`` (live models) stays strict.
    """
    strict = apps is None
    if apps is None:
        from django.apps import apps as live_apps

        apps = live_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    by_key = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in permission_model.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    counts: dict[str, int] = {}
    with transaction.atomic():
        for role in ROLES:
            keys = role_permission_keys(role=role, available=set(by_key), strict=strict)
            group, _created = group_model.objects.get_or_create(name=role)
            group.permissions.set([by_key[key] for key in sorted(keys)])
            counts[role] = len(keys)
    return counts
