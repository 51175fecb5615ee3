from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from prestashop.clients import prestashop_client
from prestashop.config import BACKENDS
from prestashop.errors import ShopConfigError
from prestashop.types import ShopCheck
from prestashop.webservice import version_supports_patch


def _yes(value: bool) -> str:
    return "yes" if value else "no"


class Command(BaseCommand):
    help = (
        "Check the connection to the shop: reachable, authorized, PrestaShop version, languages and "
        "what the API key may do. Exits non-zero when Genesys cannot work with the shop."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--backend", choices=BACKENDS, help="Override PRESTASHOP_BACKEND.")
        parser.add_argument(
            "--url", help="Override PRESTASHOP_URL (the key always comes from the environment)."
        )

    def handle(self, *args, **options) -> None:
        overrides = {name: options[name] for name in ("backend", "url") if options[name]}
        overrides["retries"] = 1  # an operator waiting at a terminal wants a quick answer
        try:
            client = prestashop_client(**overrides)
        except ShopConfigError as exc:
            raise CommandError(str(exc)) from None
        with client:
            result = client.check()
        self._report(result)
        if not result.reachable:
            raise CommandError(f"The shop is not reachable: {result.error}")
        if not result.authorized:
            raise CommandError(f"Genesys cannot use the shop: {result.error}")
        if result.missing:
            raise CommandError("The API key lacks permissions Genesys needs: " + "; ".join(result.missing))
        if result.error:
            raise CommandError(result.error)
        self.stdout.write(self.style.SUCCESS("Shop connection OK."))

    def _report(self, result: ShopCheck) -> None:
        write = self.stdout.write
        write(f"PrestaShop check: backend {result.backend} at {result.url}")
        write(f"  reachable    {_yes(result.reachable)}")
        write(f"  authorized   {_yes(result.authorized)}")
        if not result.authorized:
            return
        version = result.version or "unknown"
        if result.backend == "webservice" and result.version:
            mode = "PATCH" if version_supports_patch(result.version) else "GET then PUT (no PATCH before 8.0)"
            version += f"; updates use {mode}"
        write(f"  version      {version}")
        languages = ", ".join(f"{lang.id} {lang.iso_code} {lang.name}" for lang in result.languages) or "none"
        write(f"  languages    {languages}")
        write("  permissions")
        for resource, methods in sorted(result.permissions.items()):
            write(f"    {resource:<22} {' '.join(methods) or '-'}")
        write(f"  missing      {'; '.join(result.missing) or 'none'}")
