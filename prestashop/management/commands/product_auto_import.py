from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from prestashop.clients import prestashop_client
from prestashop.errors import ShopConfigError
from prestashop.services.auto_import import ImportItem, products_auto_import


class Command(BaseCommand):
    help = (
        "Create in the shop, disabled, the products of auto-import categories that the shop does not "
        "have yet (enabled, not end-of-life, with a price and stock), and store their shop ids. "
        "--dry-run lists them and changes nothing (it does not contact the shop)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List what would be created only.")
        parser.add_argument("--limit", type=int, help="Import at most this many products.")

    def handle(self, *args, dry_run: bool, limit: int | None, **options) -> None:
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        client = None
        if not dry_run:
            try:
                client = prestashop_client()
            except ShopConfigError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{'action':<13} {'product':>8} {'reference':<12} {'price':>10} {'stock':>6} "
            f"{'category':>8} {'brand':>6} {'ean13':<13} name"
        )
        try:
            result = products_auto_import(client=client, dry_run=dry_run, limit=limit, on_item=self._item)
        finally:
            if client is not None:
                client.close()
        self.stdout.write(
            f"{result.candidates} candidates: {result.would_create} would be created, "
            f"{result.created} created, {result.adopted} adopted from an earlier run, "
            f"{result.conflicts} conflicts, {result.skipped} skipped, {result.failed} failed"
        )
        if dry_run:
            self.stdout.write("Dry run: nothing was created and nothing was changed.")
        if result.stopped:
            raise CommandError(f"Stopped early: {result.stopped}")

    def _item(self, item: ImportItem) -> None:
        line = (
            f"{item.action:<13} {item.product_id:>8} {item.reference:<12} {item.price:>10} {item.stock:>6} "
            f"{item.id_category or '-':>8} {item.id_manufacturer or '-':>6} {item.ean13 or '-':<13} "
            f"{item.name}"
        )
        if item.id_ecommerce:
            line += f"  -> shop product {item.id_ecommerce}"
        if item.message:
            line += f"\n{'':<14}{item.message}"
        style = self.style.ERROR if item.action in ("failed", "conflict") else None
        self.stdout.write(style(line) if style else line)
