from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.policies.landed import WeightTableError, weight_table_parse
from genesys.env import is_env_var_name
from genesys.fields import margin_field, money_field
from genesys.outbound import outbound_policy, url_host_refusal
from procurement.feeds.source_url import (
    FeedPathError,
    feed_path_message,
    feeds_root_path_resolve,
    url_credentials_find,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    margin = margin_field(
        _("margin"),
        null=True,
        blank=True,
        help_text=_("Fraction: 0.25 = 25 %. Empty: use the global default margin."),
    )
    priority = models.SmallIntegerField(
        _("priority"),
        default=0,
        help_text=_("Breaks ties between equal offers: the higher number wins."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive suppliers' offers are never elected.")
    )
    # Landed-cost rules (docs/catalog.md#landed-cost): amounts in the shop's currency, net of tax.
    shipping_per_item = money_field(
        _("shipping per item"),
        default=Decimal("0"),
        db_default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Added to every unit's cost."),
    )
    shipping_per_line = money_field(
        _("shipping per order line"),
        default=Decimal("0"),
        db_default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Charged once per order line; a unit's cost bears all of it (an order of one)."),
    )
    landed_cost_percent = margin_field(
        _("costs as a fraction of the price"),
        default=Decimal("0"),
        db_default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Fraction of the net cost added for fees, insurance or duties: 0.02 = 2 %."),
    )
    shipping_weight_table = models.JSONField(
        _("shipping by weight"),
        default=list,
        blank=True,
        help_text=_(
            'Bands by product weight, e.g. [{"up_to_kg": "2", "amount": "4.50"}, {"up_to_kg": "30", '
            '"amount": "12"}]; heavier products, or products without a weight, take the last band.'
        ),
    )
    free_shipping_above = money_field(
        _("free shipping above"),
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Net cost (shop's currency) from which no shipping is charged. Empty: never free."),
    )
    ingest_enabled = models.BooleanField(_("scheduled ingest"), default=False)
    ingest_interval_minutes = models.PositiveIntegerField(
        _("ingest interval (minutes)"), default=60, validators=[MinValueValidator(1)]
    )
    ingest_next_run_at = models.DateTimeField(
        _("next ingest at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Informational: when the scheduler will run the next ingest."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(margin__isnull=True) | Q(margin__gte=0), name="supplier_margin_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(ingest_interval_minutes__gte=1), name="supplier_interval_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    LANDED_COST_FIELDS = (
        "shipping_per_item",
        "shipping_per_line",
        "landed_cost_percent",
        "shipping_weight_table",
        "free_shipping_above",
    )

    def clean(self) -> None:
        super().clean()

        try:
            weight_table_parse(self.shipping_weight_table)
        except WeightTableError as exc:
            raise ValidationError({"shipping_weight_table": str(exc)}) from None


# Which keys of ``SupplierFeed.auth_settings`` each auth type needs. Values are names of
# environment variables (credentials are never stored in the database), except ``header`` and
# ``param``, which name the HTTP header or query parameter that carries the credential.
AUTH_REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "none": (),
    "basic": ("username_env", "password_env"),
    "bearer": ("token_env",),
    "header": ("header", "value_env"),
    "query": ("param", "value_env"),
}
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"}


class SupplierFeed(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSON = "json", "JSON"
        XML = "xml", "XML"

    class AuthType(models.TextChoices):
        NONE = "none", _("None")
        BASIC = "basic", _("HTTP basic")
        BEARER = "bearer", _("Bearer token")
        HEADER = "header", _("Custom header")
        QUERY = "query", _("Query-string key")

    # What an operator configures (the admin form, the suppliers JSON): besides supplier and name.
    SETTINGS_FIELDS = (
        "source_url",
        "format",
        "format_options",
        "headers",
        "auth_type",
        "auth_settings",
        "pagination",
        "unseen_min_ratio",
        "currency",
        "prices_include_vat",
        "vat_rate",
        "is_active",
    )

    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="feeds"
    )
    name = models.CharField(_("name"), max_length=120)
    source_url = models.CharField(
        _("source"),
        max_length=2000,
        help_text=_("An http(s):// URL, or file:relative/path.csv under the FEEDS_ROOT folder."),
    )
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    format_options = models.JSONField(
        _("format options"),
        default=dict,
        blank=True,
        help_text=_('E.g. {"delimiter": ";", "encoding": "cp1252"} or {"items_path": "data.products"}.'),
    )
    headers = models.JSONField(
        _("HTTP headers"),
        default=dict,
        blank=True,
        help_text=_("Non-secret headers only; credentials go in the authentication settings."),
    )
    auth_type = models.CharField(
        _("authentication"), max_length=16, choices=AuthType.choices, default=AuthType.NONE
    )
    auth_settings = models.JSONField(
        _("authentication settings"),
        default=dict,
        blank=True,
        help_text=_('Names of environment variables, e.g. {"token_env": "ACME_FEED_TOKEN"}.'),
    )
    pagination = models.JSONField(
        _("pagination"),
        default=dict,
        blank=True,
        help_text=_('E.g. {"type": "page", "page_param": "page", "max_pages": 500}.'),
    )
    unseen_min_ratio = models.DecimalField(
        _("unseen-offer safety threshold"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.500"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_(
            "Offers missing from a run are zeroed only if the run read at least this fraction "
            "of the valid rows of the last successful run."
        ),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        blank=True,
        default="",
        db_default="",
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Use the three capital letters of ISO 4217, e.g. CZK."))],
        help_text=_("ISO 4217 code of the feed's prices, e.g. CZK. Empty: the shop's currency."),
    )
    prices_include_vat = models.BooleanField(
        _("prices include VAT"),
        default=False,
        db_default=False,
        help_text=_("The feed gives consumer prices: the VAT rate below is removed to get the net cost."),
    )
    vat_rate = margin_field(
        _("VAT rate"),
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("Fraction: 0.23 = 23 %. Required when the prices include VAT."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Set by the migration that took credentials out of source URLs: which names it moved to
    # environment variables ({"env": [...]}) or could not move ({"params": [...], "userinfo": true}).
    # Never a value. Cleared when the feed is saved again with a clean URL.
    url_credentials_removed = models.JSONField(
        _("credentials removed from the URL"), default=dict, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("supplier feed")
        verbose_name_plural = _("supplier feeds")
        permissions = [("preview_supplierfeed", _("Can preview a feed (downloads it from the web process)"))]
        ordering = ["supplier__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "name"], name="feed_unique_name_per_supplier"),
            models.CheckConstraint(
                condition=Q(unseen_min_ratio__gte=0) & Q(unseen_min_ratio__lte=1),
                name="feed_unseen_ratio_between_0_and_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} / {self.name}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[StrOrPromise]] = {}
        source_problem = source_url_problem(self.source_url or "")
        if source_problem:
            errors["source_url"] = [source_problem]
        auth_problems = auth_settings_problems(auth_type=self.auth_type, auth_settings=self.auth_settings)
        if auth_problems:
            errors["auth_settings"] = auth_problems
        header_problems = headers_problems(self.headers)
        if header_problems:
            errors["headers"] = header_problems
        for field in ("format_options", "pagination"):
            if not isinstance(getattr(self, field), dict):
                errors.setdefault(field, []).append(_("Must be a JSON object."))
        if self.prices_include_vat and self.vat_rate is None:
            errors.setdefault("vat_rate", []).append(_("Give the VAT rate the feed's prices include."))
        if errors:
            raise ValidationError(errors)

    @property
    def price_currency(self) -> str:
        """The currency of the feed's prices (the shop's when the feed sets none)."""
        from django.conf import settings

        return self.currency or settings.GENESYS_SHOP_CURRENCY


def auth_settings_problems(*, auth_type: str, auth_settings: object) -> list[StrOrPromise]:
    """What is wrong with a feed's authentication settings: keys the type needs, ``*_env`` keys
    that name environment variables, and no credential stored in the database itself."""
    if not isinstance(auth_settings, dict):
        return [_("Must be a JSON object.")]
    problems: list[StrOrPromise] = [
        _("%(key)s is required for this authentication type.") % {"key": key}
        for key in AUTH_REQUIRED_KEYS.get(auth_type, ())
        if not auth_settings.get(key)
    ]
    for key, value in auth_settings.items():
        if key.endswith("_env"):
            if not is_env_var_name(value):
                problems.append(_("%(key)s must be the name of an environment variable.") % {"key": key})
        elif key not in {"header", "param"}:
            problems.append(
                _(
                    "%(key)s is not allowed: store credentials in environment variables and "
                    "put their names in *_env keys."
                )
                % {"key": key}
            )
    return problems


def headers_problems(headers: object) -> list[StrOrPromise]:
    """What is wrong with a feed's extra headers: strings only, and no credential among them."""
    if not isinstance(headers, dict):
        return [_("Must be a JSON object.")]
    problems: list[StrOrPromise] = []
    for name, value in headers.items():
        if name.lower() in _SECRET_HEADERS:
            problems.append(
                _("%(name)s carries a credential: use the authentication settings.") % {"name": name}
            )
        elif not isinstance(value, str):
            problems.append(_("The value of %(name)s must be a string.") % {"name": name})
    return problems


def source_url_problem(url: str) -> StrOrPromise:
    """Why ``url`` cannot be a feed's source ("" when it can); see docs/security.md."""
    from django.conf import settings

    url = url.strip()
    if url.startswith("file:"):
        try:
            feeds_root_path_resolve(
                relative=url[len("file:") :], root=Path(settings.FEEDS_ROOT), must_exist=False
            )
        except FeedPathError as exc:
            return feed_path_message(url, exc)
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return _("Not a valid URL.")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return _("The source must be an http(s):// URL or file:relative/path under FEEDS_ROOT.")
    found = url_credentials_find(url)
    if found:
        what: list[StrOrPromise] = []
        if found.userinfo:
            what.append(_("a user name or password before the host"))
        if found.params:
            what.append(_("the query parameter(s) %(names)s") % {"names": ", ".join(found.params)})
        return _(
            "The address carries credentials (%(what)s). Credentials are never stored: remove them and "
            'set the authentication instead — auth_type "query" with '
            '{"param": "<name>", "value_env": "ACME_FEED_KEY"}, "basic" with username_env and '
            'password_env, or "bearer" with token_env — naming environment variables that hold the '
            "values where the workers run."
        ) % {"what": _(" and ").join(str(w) for w in what)}
    refusal = url_host_refusal(parts.hostname, policy=outbound_policy())
    if refusal:
        return _("This address cannot be fetched: %(reason)s.") % {"reason": refusal}
    return ""


class FeedMapper(models.Model):
    """A JSON profile that maps a feed's fields to canonical fields (see docs/mappers.md)."""

    feed = models.ForeignKey(
        SupplierFeed, verbose_name=_("feed"), on_delete=models.CASCADE, related_name="mappers"
    )
    name = models.CharField(_("name"), max_length=120, default="default")
    profile = models.JSONField(_("profile"), default=dict)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("feed mapper")
        verbose_name_plural = _("feed mappers")
        ordering = ["feed", "-is_active", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["feed"],
                condition=Q(is_active=True),
                name="mapper_one_active_per_feed",
                violation_error_message=_("This feed already has an active mapper."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feed} / {self.name}"


class FeedRun(models.Model):
    """One execution of a feed ingest: what it read, wrote, skipped and why."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCESS = "success", _("Success")
        WARNING = "warning", _("Warning")
        FAILED = "failed", _("Failed")
        ABANDONED = "abandoned", _("Abandoned")
        CANCELLED = "cancelled", _("Cancelled")  # stopped between chunks on request

    feed = models.ForeignKey(
        SupplierFeed, verbose_name=_("feed"), on_delete=models.CASCADE, related_name="runs"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    triggered_by = models.CharField(_("triggered by"), max_length=64, blank=True, default="")
    dry_run = models.BooleanField(_("dry run"), default=False)
    force_unseen = models.BooleanField(
        _("forced unseen handling"),
        default=False,
        help_text=_("An operator forced zeroing of missing offers despite the safety guard."),
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    timings = models.JSONField(
        _("phase timings (s)"),
        default=dict,
        blank=True,
        help_text=_("Seconds spent in download, parse, write and recompute."),
    )
    bytes_downloaded = models.BigIntegerField(_("bytes downloaded"), default=0)
    pages_fetched = models.PositiveIntegerField(_("pages fetched"), default=0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_valid = models.PositiveIntegerField(_("valid rows"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rejected rows"), default=0)
    warnings_count = models.PositiveIntegerField(_("warnings"), default=0)
    products_created = models.PositiveIntegerField(_("products created"), default=0)
    products_updated = models.PositiveIntegerField(_("products updated"), default=0)
    offers_created = models.PositiveIntegerField(_("offers created"), default=0)
    offers_changed = models.PositiveIntegerField(_("offers changed"), default=0)
    offers_unchanged = models.PositiveIntegerField(_("offers unchanged"), default=0)
    offers_zeroed = models.PositiveIntegerField(_("offers zeroed (missing)"), default=0)
    events_created = models.PositiveIntegerField(_("events written"), default=0)
    stream_rows = models.PositiveIntegerField(_("shop updates queued"), default=0)
    identity_conflicts = models.PositiveIntegerField(
        _("identity conflicts"),
        default=0,
        db_default=0,
        help_text=_("Products whose SKUs in this feed disagree; their offers are held for review."),
    )
    price_outliers = models.PositiveIntegerField(
        _("price outliers"),
        default=0,
        db_default=0,
        help_text=_("Offers held because their cost is far below the other suppliers' offers."),
    )
    unseen_handling = models.CharField(
        _("missing-offer handling"),
        max_length=16,
        blank=True,
        default="",
        choices=[("applied", _("Applied")), ("skipped", _("Skipped")), ("forced", _("Forced"))],
    )
    progress = models.CharField(_("progress"), max_length=255, blank=True, default="")
    error = models.TextField(_("error"), blank=True, default="")
    warnings = models.JSONField(_("warning messages"), default=list, blank=True)
    rejected_rows = models.JSONField(
        _("rejected rows (sample)"),
        default=list,
        blank=True,
        help_text=_("The first 1,000 rejected rows with their reasons."),
    )
    job_run = models.ForeignKey(
        "genesys.JobRun",
        verbose_name=_("job run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feed_runs",
    )

    class Meta:
        verbose_name = _("feed run")
        verbose_name_plural = _("feed runs")
        permissions = [("download_rejected_rows", _("Can download a run's rejected rows (CSV)"))]
        constraints = [
            # Two ingests of one feed never overlap: the second cannot even start its run.
            models.UniqueConstraint(
                fields=["feed"],
                condition=Q(status="running"),
                name="feedrun_one_running_per_feed",
                violation_error_message=_("An ingest of this feed is already running."),
            ),
        ]
        indexes = [
            models.Index(fields=["feed", "-started_at"], name="feedrun_feed_started_idx"),
            models.Index(fields=["status", "started_at"], name="feedrun_status_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.feed} @ {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SupplierItem(models.Model):
    """A supplier's offer for a product, as its feed last described it."""

    class HoldReason(models.TextChoices):
        NONE = "", _("Not held")
        IDENTITY_CONFLICT = "identity_conflict", _("Identity conflict")
        PRICE_OUTLIER = "price_outlier", _("Price outlier")
        PRICE_REJECTED = "price_rejected", _("Price rejected by an operator")

    # Few indexes on purpose: every ingest touches every offer of its feed, and each index is
    # written on each change. The (feed, sku) key covers lookups by feed; see Meta.indexes.
    feed = models.ForeignKey(
        SupplierFeed, verbose_name=_("feed"), on_delete=models.PROTECT, related_name="items", db_index=False
    )
    # No database constraint: the feed's own key to its supplier checks it (docs/architecture.md,
    # "Constraints on the bulk path"); Django's PROTECT still refuses to delete the supplier.
    supplier = models.ForeignKey(
        Supplier,
        verbose_name=_("supplier"),
        on_delete=models.PROTECT,
        related_name="items",
        db_index=False,
        db_constraint=False,
        help_text=_("Always the feed's supplier; stored to elect offers without a join."),
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="offers",
        db_index=False,
    )
    sku = models.CharField(_("supplier SKU"), max_length=255)
    gtin_raw = models.CharField(_("GTIN as received"), max_length=64, blank=True, default="")
    partnumber_raw = models.CharField(_("part number as received"), max_length=255, blank=True, default="")
    # The row's own words, to show an identity conflict side by side (the product keeps the first
    # supplier's name). Database defaults: the ingest writes offers in raw SQL.
    name_raw = models.CharField(_("name as received"), max_length=255, blank=True, default="", db_default="")
    brand_raw = models.CharField(
        _("brand as received"), max_length=120, blank=True, default="", db_default=""
    )
    price = money_field(_("cost price"))
    stock = models.IntegerField(_("stock"))
    # The writer's mark: the last run that read this offer's row in full (wrote it, mapped it to
    # find it unchanged, or kept it when its row was rejected). An item recognised unchanged by
    # its fingerprint is not rewritten, so that an unchanged run writes no offer at all: this is
    # not when the feed last listed the offer (that is ``missing_since``). No index and no
    # constraint, so that setting it is a cheap in-place (HOT) update; a pruned run leaves the id.
    last_read_run = models.ForeignKey(
        FeedRun,
        verbose_name=_("last read in full in run"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    missing_since = models.DateTimeField(
        _("missing from the feed since"),
        null=True,
        blank=True,
        help_text=_(
            "Set when a run that read the whole feed no longer listed this offer (its stock then "
            "went to 0); cleared when the feed lists it again."
        ),
    )
    row_hash = models.CharField(
        _("row fingerprint"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("Hash of the mapped row; an unchanged row is skipped cheaply."),
    )
    raw_hash = models.CharField(
        _("source item fingerprint"),
        max_length=32,
        blank=True,
        default="",
        help_text=_(
            "Fingerprint of the feed item that last wrote this offer, under its mapper profile; "
            "the same item next time is recognised without being mapped."
        ),
    )
    # An offer on hold is kept and updated by its feed but never elected: the catalog waits for
    # an operator's decision (an identity conflict, a price outlier, a rejected price). Database
    # defaults, as the ingest writes offers in raw SQL that names only the columns it sets.
    hold_reason = models.CharField(
        _("hold reason"), max_length=32, choices=HoldReason.choices, blank=True, default="", db_default=""
    )
    hold_note = models.TextField(_("hold note"), blank=True, default="", db_default="")
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)
    hold_released_price = money_field(
        _("price released at"),
        null=True,
        blank=True,
        help_text=_(
            "An operator released this offer's price-outlier hold at this cost; it is not held "
            "again until the cost changes materially."
        ),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("supplier offer")
        verbose_name_plural = _("supplier offers")
        constraints = [
            models.UniqueConstraint(fields=["feed", "sku"], name="item_unique_sku_per_feed"),
            models.CheckConstraint(condition=Q(price__gte=0), name="item_price_not_negative"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="item_stock_not_negative"),
        ]
        indexes = [
            models.Index(fields=["product"], name="item_product_idx"),
            models.Index(fields=["supplier"], name="item_supplier_idx"),
            # Few rows: the offers on hold, counted on the admin's home page.
            models.Index(fields=["hold_reason"], condition=~Q(hold_reason=""), name="item_held_idx"),
        ]
        permissions = [("release_supplieritem", _("Can release held offers"))]

    def __str__(self) -> str:
        return f"{self.supplier_id}:{self.sku}"


class IdentityConflict(models.Model):
    """SKUs of one feed that resolved to one product but whose rows disagree (name, price, GTIN,
    pack size): their offers are held until an operator splits, merges or ignores the group."""

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        IGNORED = "ignored", _("Ignored (offers stay held)")
        ACCEPTED = "accepted", _("Merged anyway")
        SPLIT = "split", _("Split into products")
        CLEARED = "cleared", _("Cleared by the feed")

    feed = models.ForeignKey(
        SupplierFeed, verbose_name=_("feed"), on_delete=models.CASCADE, related_name="identity_conflicts"
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="identity_conflicts",
        db_index=False,  # the (feed, product) unique constraint; products are looked up with the feed
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    skus = models.JSONField(
        _("SKUs"),
        default=list,
        help_text=_("The group's SKUs when it was detected; a decision applies to exactly these."),
    )
    reasons = models.JSONField(_("why they disagree"), default=list)
    run = models.ForeignKey(
        FeedRun,
        verbose_name=_("detected in run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.CharField(_("resolved by"), max_length=150, blank=True, default="")

    class Meta:
        verbose_name = _("identity conflict")
        verbose_name_plural = _("identity conflicts")
        constraints = [
            models.UniqueConstraint(fields=["feed", "product"], name="identityconflict_one_per_product"),
        ]
        indexes = [models.Index(fields=["status", "detected_at"], name="identityconflict_status_idx")]
        permissions = [("resolve_identityconflict", _("Can resolve identity conflicts"))]

    def __str__(self) -> str:
        return f"{self.feed} / {self.product_id}: {len(self.skus)} SKUs"


class IdentityRule(models.Model):
    """An operator's split: for this supplier, every SKU with this brand and part number (or this
    GTIN) is a product of its own, so the next ingests keep them apart."""

    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), on_delete=models.CASCADE, related_name="identity_rules"
    )
    brand = models.ForeignKey(
        "catalog.Brand", verbose_name=_("brand"), on_delete=models.PROTECT, related_name="+"
    )
    partnumber = models.CharField(_("part number"), max_length=100)
    partnumber_normalized = models.CharField(_("normalised part number"), max_length=100)
    gtin = models.CharField(
        _("GTIN"),
        max_length=14,
        blank=True,
        default="",
        help_text=_("The GTIN the group shared, if any: rows with it are split too."),
    )
    conflict = models.ForeignKey(
        IdentityConflict,
        verbose_name=_("from conflict"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rules",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.CharField(_("created by"), max_length=150, blank=True, default="")

    class Meta:
        verbose_name = _("identity split rule")
        verbose_name_plural = _("identity split rules")
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "brand", "partnumber_normalized"], name="identityrule_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} / {self.brand} {self.partnumber}"
