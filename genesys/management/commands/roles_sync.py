from __future__ import annotations

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.core.management.base import BaseCommand

from genesys.roles import roles_sync


class Command(BaseCommand):
    help = (
        "Create the role groups (viewer, operator, integrator, admin) or give them back exactly "
        "their permissions (docs/security.md). Safe to run any time."
    )

    def handle(self, *args, **options) -> None:
        for app_config in apps.get_app_configs():
            create_permissions(app_config, verbosity=0)  # a permission added since the last migrate
        for role, count in roles_sync().items():
            if options["verbosity"] >= 1:
                self.stdout.write(f"{role}: {count} permissions")
