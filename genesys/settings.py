"""Genesys settings: everything that differs between machines comes from the environment.

See ``.env.example`` for the variables and ``genesys/env.py`` for the strict parsing rules.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from genesys.env import Env, SettingError
from genesys.outbound import OutboundPolicy

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = Env()

# --- core ------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", False)

if DEBUG:
    # A development key is fine while DEBUG is on; sessions just don't survive key changes.
    SECRET_KEY = env.secret("SECRET_KEY", "insecure-development-key-only-used-with-DEBUG-on")
else:
    SECRET_KEY = env.secret("SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise SettingError(
            "SECRET_KEY must be at least 50 characters with at least 5 distinct characters "
            "when DEBUG is off; generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise SettingError("ALLOWED_HOSTS is required when DEBUG is off (comma-separated host names).")
if not DEBUG and any(host.strip() in ("*", ".") for host in ALLOWED_HOSTS):
    # "*" turns off Host-header validation: password-reset links and absolute URLs could then
    # point at an attacker's host. Production names its hosts.
    raise SettingError(
        "ALLOWED_HOSTS must name the site's hosts when DEBUG is off; '*' (any host) is refused."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

TIME_ZONE = env.timezone("TIME_ZONE", "Europe/Lisbon")
USE_TZ = True  # stored and compared in UTC, shown in TIME_ZONE
USE_I18N = True
LANGUAGE_CODE = env.str("LANGUAGE_CODE", "pt-pt", choices=["pt-pt", "en"])
LANGUAGES = [("pt-pt", _("Portuguese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]

INSTALLED_APPS = [
    "genesys.apps.GenesysAdminConfig",  # django.contrib.admin with Genesys's admin site (2FA)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_rq",
    "genesys.apps.GenesysConfig",
    "catalog.apps.CatalogConfig",
    "procurement.apps.ProcurementConfig",
    "prestashop.apps.PrestashopConfig",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc files, served from here (no CDN)
    "api.apps.ApiConfig",  # the top layer: imports every app, imported by none
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "genesys.urls"
WSGI_APPLICATION = "genesys.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database --------------------------------------------------------------------------------
DATABASES = {"default": env.database("DATABASE_URL", base_dir=BASE_DIR)}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", 60, min_value=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- static files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", VAR_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- auth and security -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out user is refused before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed logins for one user name from
# one address, that pair is locked out for AXES_COOLOFF_MINUTES. Attempts are kept in the database
# (visible in the admin: Access attempts) so every web process sees the same count.
AXES_ENABLED = env.bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 5, min_value=1, max_value=100)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", 15, min_value=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_TEMPLATE = "genesys/lockout.html"
# Behind the HTTPS proxy the client address is in X-Forwarded-For; trust it only with the proxy.
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if env.bool("SECURE_PROXY_SSL_HEADER", False) else ["REMOTE_ADDR"]
)
AXES_IPWARE_PROXY_COUNT = 1 if env.bool("SECURE_PROXY_SSL_HEADER", False) else 0

# Two-factor (django-otp, TOTP): a staff user with a confirmed device must give its code at login;
# see docs/security.md for enrolment.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", "Genesys")
# The enrolment QR code is shown in the admin (TOTP devices: admin role only).
OTP_ADMIN_HIDE_SENSITIVE_DATA = False

# Sessions: two weeks by default like Django; shorter for shared workstations.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", 14 * 24 * 3600, min_value=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, min_value=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets (and strips incoming) X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz is probed by load balancers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]

# --- Redis and RQ ----------------------------------------------------------------------------
REDIS_URL = env.url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=["redis", "rediss", "unix"])

RQ_RESULT_TTL = env.int("RQ_RESULT_TTL", 24 * 3600, min_value=0)
RQ_FAILURE_TTL = env.int("RQ_FAILURE_TTL", 14 * 24 * 3600, min_value=60)
# Workers listen in this order (RQ takes the first non-empty queue): "urgent" (an operator's
# "Run now", quick sync), "high", "notify" (notification deliveries: small jobs that must not wait
# behind an ingest), the kinds' own queues (normal priority: scheduled work), then "low"
# (maintenance). docs/workers.md, "Priorities".
GENESYS_QUEUES = ("urgent", "high", "notify", "sync", "catalog", "ingest", "maintenance", "low")
RQ_QUEUES = {
    name: {
        "URL": REDIS_URL,
        "DEFAULT_TIMEOUT": 3600,
        "DEFAULT_RESULT_TTL": RQ_RESULT_TTL,
        "SERIALIZER": "rq.serializers.JSONSerializer",
        # Must exceed RQ's 405 s blocking dequeue (rq docs, connections).
        "SOCKET_TIMEOUT": 420,
    }
    for name in (*GENESYS_QUEUES, "default")
}
# GenesysWorker (genesys/worker.py) outlives Redis blips and takes over dead schedulers.
RQ = {"COMMIT_MODE": "on_db_commit", "WORKER_CLASS": "genesys.worker.GenesysWorker"}
# The job ledger: a running job beats every JOBS_HEARTBEAT_SECONDS; the watchdog abandons it
# after JOBS_HEARTBEAT_GRACE_SECONDS of silence (a killed worker), and rqcron ticks every
# JOBS_TICK_SECONDS to start due periodic jobs.
JOBS_HEARTBEAT_SECONDS = env.int("JOBS_HEARTBEAT_SECONDS", 10, min_value=1)
JOBS_HEARTBEAT_GRACE_SECONDS = env.int("JOBS_HEARTBEAT_GRACE_SECONDS", 90, min_value=2)
JOBS_TICK_SECONDS = env.int("JOBS_TICK_SECONDS", 10, min_value=1)
# Delayed runs: a scheduler lock nobody refreshed for JOBS_SCHEDULER_STALE_SECONDS belongs to a
# dead scheduler and is taken over; workers look for one every JOBS_SCHEDULER_CHECK_SECONDS; the
# tick releases runs still scheduled JOBS_SCHEDULER_SLACK_SECONDS after their time, and /healthz
# fails when one is JOBS_SCHEDULED_OVERDUE_SECONDS late.
JOBS_SCHEDULER_STALE_SECONDS = env.int("JOBS_SCHEDULER_STALE_SECONDS", 10, min_value=3, max_value=55)
JOBS_SCHEDULER_CHECK_SECONDS = env.int("JOBS_SCHEDULER_CHECK_SECONDS", 2, min_value=1, max_value=60)
JOBS_SCHEDULER_SLACK_SECONDS = env.int("JOBS_SCHEDULER_SLACK_SECONDS", 3, min_value=1)
JOBS_SCHEDULED_OVERDUE_SECONDS = env.int("JOBS_SCHEDULED_OVERDUE_SECONDS", 60, min_value=5)
# Redis and database outages: workers retry Redis forever with backoff up to this cap, and retry
# recording a run's end for up to JOBS_RECORD_RETRY_SECONDS.
JOBS_WORKER_MONITOR_SECONDS = env.int("JOBS_WORKER_MONITOR_SECONDS", 10, min_value=1, max_value=300)
JOBS_REDIS_BACKOFF_MAX_SECONDS = env.int("JOBS_REDIS_BACKOFF_MAX_SECONDS", 10, min_value=1)
JOBS_RECORD_RETRY_SECONDS = env.int("JOBS_RECORD_RETRY_SECONDS", 600, min_value=0)
# A cancelled run that has not reached a safe point this long after the request is stopped by
# force (RQ's stop-job command, which kills its work horse); 0: never by force.
JOBS_CANCEL_FORCE_SECONDS = env.int("JOBS_CANCEL_FORCE_SECONDS", 900, min_value=0)
# Retention: the nightly maintenance removes ended runs older than RETENTION_DAYS but keeps the
# last JOBS_KEEP_RUNS_PER_KEY runs of each key whatever their age, JOBS_PRUNE_BATCH rows at a time.
JOBS_KEEP_RUNS_PER_KEY = env.int("JOBS_KEEP_RUNS_PER_KEY", 20, min_value=0)
JOBS_PRUNE_BATCH = env.int("JOBS_PRUNE_BATCH", 2000, min_value=10, max_value=50_000)
# A job finding its kind at max concurrency waits about this long before trying again.
JOBS_CONCURRENCY_RETRY_SECONDS = env.int("JOBS_CONCURRENCY_RETRY_SECONDS", 15, min_value=1)
# /healthz turns unhealthy when a shop update waits longer than this to be sent.
HEALTH_STREAM_MAX_AGE_SECONDS = env.int("HEALTH_STREAM_MAX_AGE_SECONDS", 3600, min_value=1)
# ... and when a product an ingest changed waits longer than this for the catalog step.
HEALTH_RECOMPUTE_MAX_AGE_SECONDS = env.int("HEALTH_RECOMPUTE_MAX_AGE_SECONDS", 900, min_value=1)
# Django's cache lives in Redis so that every web process sees the same API throttle counts.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.url("CACHE_URL", REDIS_URL, schemes=["redis", "rediss", "unix"]),
        "KEY_PREFIX": "genesys",
    }
}
RQ_SHOW_ADMIN_LINK = True
# Monitoring reads django-rq's stats.json with "Authorization: Bearer <token>" (never in the URL).
RQ_API_TOKEN = env.secret("RQ_API_TOKEN", "")

# --- Genesys domain settings -----------------------------------------------------------------
FEEDS_ROOT = env.path("FEEDS_ROOT", VAR_DIR / "feeds")
# Feeds are fetched from public addresses only (genesys/outbound.py); these hosts, .suffixes,
# addresses or networks of the operator's own feed servers are let through too.
OUTBOUND_ALLOW_HOSTS = env.list("OUTBOUND_ALLOW_HOSTS", [])
try:
    OutboundPolicy.from_entries(OUTBOUND_ALLOW_HOSTS)
except ValueError as exc:
    raise SettingError(f"OUTBOUND_ALLOW_HOSTS: {exc}.") from None
# The admin's feed preview downloads and parses inside the web request: it stops after this long.
FEED_PREVIEW_MAX_SECONDS = env.int("FEED_PREVIEW_MAX_SECONDS", 10, min_value=1, max_value=120)
# Margins are fractions: selling price (net) = cost x (1 + margin); 0.20 means 20 %.
GENESYS_DEFAULT_MARGIN = env.decimal("GENESYS_DEFAULT_MARGIN", "0.20", min_value="0", max_value="10")
# Net selling prices are rounded to a multiple of this step (0.01 = cents), half_up / up / down.
GENESYS_PRICE_ROUNDING_STEP = env.decimal(
    "GENESYS_PRICE_ROUNDING_STEP", "0.01", min_value="0.0001", max_value="100"
)
GENESYS_PRICE_ROUNDING_MODE = env.str(
    "GENESYS_PRICE_ROUNDING_MODE", "half_up", choices=["half_up", "up", "down"]
)
# The shop's currency (ISO 4217): landed costs, prices and exchange rates are in it.
GENESYS_SHOP_CURRENCY = env.str("GENESYS_SHOP_CURRENCY", "EUR")
# Price-jump guard (docs/catalog.md#price-jump-guard): a new price more than this fraction above or
# below the price in the shop, or below landed cost x (1 + the minimum margin), waits for approval.
GENESYS_PRICE_CHANGE_LIMIT = env.decimal(
    "GENESYS_PRICE_CHANGE_LIMIT", "0.40", min_value="0.01", max_value="100"
)
GENESYS_PRICE_MIN_MARGIN = env.decimal("GENESYS_PRICE_MIN_MARGIN", "0.05", min_value="0", max_value="10")
# An email goes to the price approvers when one run holds more than this many prices, at most
# once per GENESYS_PRICE_APPROVAL_NOTIFY_MINUTES.
GENESYS_PRICE_APPROVAL_NOTIFY_ABOVE = env.int("GENESYS_PRICE_APPROVAL_NOTIFY_ABOVE", 20, min_value=0)
GENESYS_PRICE_APPROVAL_NOTIFY_MINUTES = env.int("GENESYS_PRICE_APPROVAL_NOTIFY_MINUTES", 60, min_value=0)
GENESYS_PRICE_APPROVAL_EMAILS = env.list("GENESYS_PRICE_APPROVAL_EMAILS", [])
# Where operators open the admin, for links in emails (e.g. https://genesys.example.com).
GENESYS_ADMIN_BASE_URL = env.url("GENESYS_ADMIN_BASE_URL", "", schemes=["http", "https"])
# Exchange rates: the daily job reads the ECB's reference rates; a feed in a currency without a
# rate of the last GENESYS_FX_MAX_AGE_DAYS days fails its run.
GENESYS_FX_SOURCE_URL = env.url(
    "GENESYS_FX_SOURCE_URL",
    "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml",
    schemes=["http", "https"],
)
GENESYS_FX_MAX_AGE_DAYS = env.int("GENESYS_FX_MAX_AGE_DAYS", 5, min_value=1)
EOL_DAYS = env.int("EOL_DAYS", 180, min_value=1)
# Rows an ingest writes per transaction, and products the catalog recomputes per transaction:
# big enough that per-statement costs vanish, small enough that a crash loses little.
INGEST_CHUNK_ROWS = env.int("INGEST_CHUNK_ROWS", 5000, min_value=1, max_value=100_000)
CATALOG_RECOMPUTE_CHUNK = env.int("CATALOG_RECOMPUTE_CHUNK", 5000, min_value=1, max_value=100_000)
# Identity conflicts (docs/catalog.md): SKUs of one feed resolving to one product disagree when
# their names share less than this fraction of words, or their prices are more than this factor
# apart.
GENESYS_IDENTITY_NAME_SIMILARITY = env.decimal(
    "GENESYS_IDENTITY_NAME_SIMILARITY", "0.3", min_value="0", max_value="1"
)
GENESYS_IDENTITY_PRICE_FACTOR = env.decimal("GENESYS_IDENTITY_PRICE_FACTOR", "3", min_value="1")
# Price outliers: a new cost below the median of the other suppliers' offers / this factor is
# held for review; a released offer is held again only when its cost moves by more than the
# tolerance (a fraction of the released cost).
GENESYS_OUTLIER_PRICE_FACTOR = env.decimal("GENESYS_OUTLIER_PRICE_FACTOR", "3", min_value="1")
GENESYS_OUTLIER_RELEASE_TOLERANCE = env.decimal(
    "GENESYS_OUTLIER_RELEASE_TOLERANCE", "0.10", min_value="0", max_value="1"
)
RETENTION_DAYS = env.int("RETENTION_DAYS", 90, min_value=1)

# --- Email (notifications to operators) -----------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", 25, min_value=1, max_value=65535)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "genesys@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# "Name <address>" or a bare address, comma-separated: they also receive operator notifications.
ADMINS = [("", address) for address in env.list("ADMINS", [])]

# Notifications (docs/notifications.md): by email to the users who subscribed (and to ADMINS), and
# to a webhook: a JSON body signed with HMAC-SHA256 of GENESYS_NOTIFY_WEBHOOK_SECRET.
GENESYS_NOTIFY_WEBHOOK_URL = env.url("GENESYS_NOTIFY_WEBHOOK_URL", "", schemes=["http", "https"])
GENESYS_NOTIFY_WEBHOOK_SECRET = env.secret("GENESYS_NOTIFY_WEBHOOK_SECRET", "")
if GENESYS_NOTIFY_WEBHOOK_URL and len(GENESYS_NOTIFY_WEBHOOK_SECRET) < 16:
    raise SettingError(
        "GENESYS_NOTIFY_WEBHOOK_SECRET must be set (at least 16 characters) when "
        "GENESYS_NOTIFY_WEBHOOK_URL is set."
    )
# The kinds the webhook receives (empty: all of them).
GENESYS_NOTIFY_WEBHOOK_KINDS = env.list("GENESYS_NOTIFY_WEBHOOK_KINDS", [])
GENESYS_NOTIFY_WEBHOOK_TIMEOUT = env.int("GENESYS_NOTIFY_WEBHOOK_TIMEOUT", 10, min_value=1, max_value=120)
# Seconds before each retry of a failed delivery; after the last, the delivery is failed for good.
GENESYS_NOTIFY_RETRY_SECONDS = env.int_list("GENESYS_NOTIFY_RETRY_SECONDS", [30, 120, 600, 1800, 3600])
# One notification per kind and object in this many minutes; the others wait for the digest.
GENESYS_NOTIFY_THROTTLE_MINUTES = env.int("GENESYS_NOTIFY_THROTTLE_MINUTES", 60, min_value=0)
# "Parked rows" is notified when more than this many shop updates are parked (failed for good).
GENESYS_NOTIFY_PARKED_ABOVE = env.int("GENESYS_NOTIFY_PARKED_ABOVE", 50, min_value=0)

# --- PrestaShop ------------------------------------------------------------------------------
PRESTASHOP_URL = env.url("PRESTASHOP_URL", "", schemes=["http", "https"])
PRESTASHOP_API_KEY = env.secret("PRESTASHOP_API_KEY", "")
PRESTASHOP_BACKEND = env.str("PRESTASHOP_BACKEND", "webservice", choices=["webservice", "r_genesys"])
PRESTASHOP_SHOP_ID = env.int("PRESTASHOP_SHOP_ID", 1, min_value=1)
# Set on every product Genesys creates; the shop's "no tax" group is 0.
PRESTASHOP_TAX_RULES_GROUP_ID = env.int("PRESTASHOP_TAX_RULES_GROUP_ID", 1, min_value=0)
PRESTASHOP_CONNECT_TIMEOUT = env.int("PRESTASHOP_CONNECT_TIMEOUT", 5, min_value=1, max_value=60)  # seconds
PRESTASHOP_READ_TIMEOUT = env.int("PRESTASHOP_READ_TIMEOUT", 30, min_value=1, max_value=600)  # seconds
PRESTASHOP_RETRIES = env.int("PRESTASHOP_RETRIES", 3, min_value=0, max_value=10)
# Parallel requests of one batch update; the shop's PHP workers are the limit.
PRESTASHOP_CONCURRENCY = env.int("PRESTASHOP_CONCURRENCY", 8, min_value=1, max_value=64)
PRESTASHOP_BATCH_SIZE = env.int("PRESTASHOP_BATCH_SIZE", 200, min_value=1, max_value=500)  # r_genesys

# --- the job API (docs/api.md) ----------------------------------------------------------------
# Requests per minute and token (or per staff session): every request, and the jobs a token may
# ask for (a bulk request counts each of its items), so a runaway script cannot flood the queues.
API_REQUESTS_PER_MINUTE = env.int("API_REQUESTS_PER_MINUTE", 600, min_value=1)
API_JOBS_PER_MINUTE = env.int("API_JOBS_PER_MINUTE", 120, min_value=1)
# A token's last-used time is written at most this often (one write per token per interval).
API_TOKEN_TOUCH_SECONDS = env.int("API_TOKEN_TOUCH_SECONDS", 60, min_value=1)
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous request a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.StaffWithModelPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiRequestThrottle"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,  # money stays exact: "12.30", never a float
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Genesys API",
    "DESCRIPTION": "Jobs, queues, products and feed runs of the Genesys back office (docs/api.md).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["api.permissions.StaffOnly"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "genesys.models.JobRun.Status",
        "FeedRunStatusEnum": "procurement.models.FeedRun.Status",
    },
}

# --- logging ---------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", "INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # urllib3 logs full URLs at DEBUG, which may carry query-string API keys.
        "urllib3": {"level": "WARNING"},
        "rq.worker": {"level": LOG_LEVEL},
        "axes": {"level": "WARNING"},  # a line per login otherwise; lockouts are warnings
    },
}
