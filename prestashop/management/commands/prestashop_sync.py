from __future__ import annotations

import signal
import time
from types import FrameType

from django.core.management.base import BaseCommand, CommandError

from prestashop.clients import prestashop_client
from prestashop.errors import ShopConfigError
from prestashop.services.sync import StreamDrainResult, stream_drain


class Command(BaseCommand):
    help = (
        "Send the catalog update stream to the shop (price, stock, active) in the foreground. "
        "With --once, drain what is due and exit; otherwise keep polling until Ctrl-C or SIGTERM, "
        "which finish the batch in flight first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Drain what is due now, then exit.")
        parser.add_argument("--batch-size", type=int, help="Rows per claim (default: one client round).")
        parser.add_argument("--idle-seconds", type=float, default=5.0, help="Pause when nothing is due.")

    def handle(self, *args, once: bool, batch_size: int | None, idle_seconds: float, **options) -> None:
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            client = prestashop_client()
        except ShopConfigError as exc:
            raise CommandError(str(exc)) from None
        self._stop = False
        previous = signal.signal(signal.SIGTERM, self._request_stop)
        try:
            with client:
                while True:
                    result = stream_drain(
                        client=client, batch_size=batch_size, should_stop=lambda: self._stop
                    )
                    self._report(result)
                    if result.stopped == "shop_refused":
                        raise CommandError(f"The shop refused the API key: {result.error}")
                    if once or self._stop:
                        return
                    if not result.claimed:
                        time.sleep(idle_seconds)
        except KeyboardInterrupt:
            self.stdout.write("Interrupted; rows in flight return to the queue when their lease expires.")
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop = True

    def _report(self, result: StreamDrainResult) -> None:
        if not (result.claimed or result.leases_released):
            return
        rate = result.claimed / result.seconds if result.seconds else 0
        self.stdout.write(
            f"{result.claimed} rows in {result.batches} batches ({rate:.0f} rows/s): {result.done} done, "
            f"{result.retried} to retry, {result.failed} failed, {result.merged} merged, "
            f"{result.leases_released} expired leases released, {result.lost} lost leases"
        )
