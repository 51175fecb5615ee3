"""Settings for the test suite: the real settings module, with a dedicated Redis database.

The tests run against whichever database ``DATABASE_URL`` names (PostgreSQL in CI, SQLite by
default) and always against a real Redis server.
"""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("LANGUAGE_CODE", "en")

from genesys.env import Env
from genesys.settings import *
from genesys.settings import CACHES, DATABASES, GENESYS_QUEUES, RQ_QUEUES, VAR_DIR

# Each pytest-xdist worker gets its own Redis database, counting down from TEST_REDIS_DB.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_worker_index = int(_worker[2:]) if _worker.startswith("gw") and _worker[2:].isdigit() else 0
_base_url = Env().url("TEST_REDIS_URL", "redis://127.0.0.1:6379", schemes=["redis", "rediss"])
_base_db = Env().int("TEST_REDIS_DB", 15, min_value=1, max_value=15)
if _base_db - _worker_index < 1:
    from genesys.env import SettingError

    raise SettingError(
        f"TEST_REDIS_DB={_base_db} leaves no Redis database for test worker {_worker} (database 0 is "
        "never flushed); raise TEST_REDIS_DB or lower PYTEST_WORKERS."
    )
REDIS_URL = f"{_base_url.rstrip('/')}/{_base_db - _worker_index}"
for _queue in (*GENESYS_QUEUES, "default"):
    RQ_QUEUES[_queue]["URL"] = REDIS_URL
# The cache (API throttles) shares the tests' Redis database: flushed around every test.
CACHES["default"]["LOCATION"] = REDIS_URL

# A file, not memory: subprocess workers in the worker tests open the same test database.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{_worker}.sqlite3")}
# A worker process started by a test connects straight to the test database it is given.
if os.environ.get("GENESYS_TEST_DB_NAME"):
    DATABASES["default"]["NAME"] = os.environ["GENESYS_TEST_DB_NAME"]

# Jobs run in-process by the tests don't need a heartbeat thread (the worker tests set one).
JOBS_HEARTBEAT_SECONDS = Env().int("JOBS_HEARTBEAT_SECONDS", 3600, min_value=1)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FEEDS_ROOT = VAR_DIR / "test-feeds" / _worker
# The feed tests' servers listen on loopback; the outbound-policy tests set their own allow-list.
OUTBOUND_ALLOW_HOSTS = ["127.0.0.0/8", "::1"]
STATIC_ROOT = VAR_DIR / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Fault-injection tests start workers with GENESYS_FAILPOINTS set (genesys/failpoints.py).
from genesys.failpoints import failpoints_parse

FAILPOINTS = failpoints_parse(os.environ.get("GENESYS_FAILPOINTS", ""))
