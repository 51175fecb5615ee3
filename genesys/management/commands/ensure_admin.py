from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the first admin user if there is none: GENESYS_ADMIN_USERNAME / "
        "GENESYS_ADMIN_PASSWORD from the environment, or 'admin' with a generated password that "
        "is printed once."
    )

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin user already exists; nothing to do.")
            return
        username = os.environ.get("GENESYS_ADMIN_USERNAME", "").strip() or "admin"
        password = os.environ.get("GENESYS_ADMIN_PASSWORD", "")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(15)
        User.objects.create_superuser(username=username, email="", password=password)
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin user '{username}' with password: {password}\n"
                    "It is shown only this once; change it in the admin (top right, Change password)."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Created admin user '{username}' from the environment."))
