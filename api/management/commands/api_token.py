from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from api.models import ApiToken
from api.services.tokens import api_token_create, api_token_expiry, api_tokens_revoke


class Command(BaseCommand):
    help = (
        "API tokens: create one for a staff user (printed once, stored only as a hash), "
        "revoke one by its id, or list them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a token and print it (once).")
        create.add_argument("user", help="user name of an active staff user")
        create.add_argument("--name", default="", help='what uses it (default: "command line")')
        create.add_argument("--expires-days", type=int, default=None, help="expire after D days")
        revoke = actions.add_parser("revoke", help="Revoke a token for good.")
        revoke.add_argument("token", help="the token id (the 8 characters after gsy_) or the whole token")
        listing = actions.add_parser("list", help="List tokens (never their secrets).")
        listing.add_argument("user", nargs="?", default=None)

    def handle(self, *args, **options) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict) -> None:
        try:
            user = get_user_model().objects.get_by_natural_key(options["user"])
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {options['user']!r}.") from None
        if not user.is_staff or not user.is_active:
            raise CommandError(f"{user.get_username()} is not an active staff user; the API refuses others.")
        days = options["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1.")
        row, token = api_token_create(
            user=user,
            name=options["name"] or "command line",
            expires_at=api_token_expiry(days=days),
            by="command",
        )
        expiry = f"expires {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else "does not expire"
        self.stderr.write(f"Token {row.public_id} for {user.get_username()} ({expiry}). Shown once:")
        self.stdout.write(token)

    def _revoke(self, options: dict) -> None:
        reference = options["token"].strip()
        public_id = reference.split("_")[1] if reference.startswith("gsy_") else reference
        row = ApiToken.objects.filter(public_id=public_id).first()
        if row is None:
            raise CommandError(f"No token {public_id!r}.")
        if api_tokens_revoke(token_ids=[row.pk], by="command"):
            self.stdout.write(self.style.SUCCESS(f"Token {public_id} revoked."))
        else:
            self.stdout.write(f"Token {public_id} was already revoked.")

    def _list(self, options: dict) -> None:
        rows = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
        if options["user"]:
            rows = rows.filter(user__username=options["user"])
        now = timezone.now()
        for row in rows:
            used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
            self.stdout.write(
                f"{row.public_id}  {row.state(now):<8} {row.user.get_username():<20} "
                f"last used {used:<16}  {row.name}"
            )
