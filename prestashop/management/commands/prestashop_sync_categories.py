from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from prestashop.clients import prestashop_client
from prestashop.errors import ShopConfigError, ShopError
from prestashop.services.reference import shop_reference_sync


class Command(BaseCommand):
    help = (
        "Copy the shop's category tree and manufacturers into Genesys (for category mapping and "
        "brand matching), and refresh the shop names of mapped categories."
    )

    def handle(self, *args, **options) -> None:
        try:
            client = prestashop_client()
        except ShopConfigError as exc:
            raise CommandError(str(exc)) from None
        try:
            with client:
                result = shop_reference_sync(client=client)
        except ShopError as exc:
            raise CommandError(f"Reading the shop failed, nothing was changed: {exc}") from None
        write = self.stdout.write
        write(
            f"categories     {result.categories} in the shop: {result.categories_created} new, "
            f"{result.categories_changed} changed, {result.categories_removed} gone (kept, inactive)"
        )
        write(
            f"manufacturers  {result.manufacturers} in the shop: {result.manufacturers_created} new, "
            f"{result.manufacturers_changed} changed, {result.manufacturers_removed} gone (kept, inactive)"
        )
        write(f"mapped categories renamed from the shop: {result.mapped_renamed}")
        if result.mapped_unusable:
            self.stdout.write(
                self.style.WARNING(
                    f"{result.mapped_unusable} Genesys categories are mapped to a shop category that is gone "
                    "or unknown; remap them in the admin (filter 'shop mapping')."
                )
            )
