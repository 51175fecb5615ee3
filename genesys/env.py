"""Strict environment parsing for settings.

Every reader raises ``ImproperlyConfigured`` with the variable's name and the offending value
(never the value of a secret), so a typo stops start-up with a message the operator can act on
instead of running with a silently wrong configuration.
"""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
# What ``make run`` generates (scripts/run) and what an operator may keep next to it; commands run
# in another terminal read the same files (real environment variables win).
ENV_FILES = (".env", "var/genesys.env")
_FALSE = {"0", "false", "no", "off"}
_UNSET = object()


class SettingError(ImproperlyConfigured):
    """A setting from the environment is missing or wrong; the message names the variable."""


def env_file_parse(text: str) -> dict[str, str]:
    """``NAME=value`` lines (``export`` and surrounding quotes allowed), comments and blanks skipped."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        name, value = name.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if is_env_var_name(name):
            values[name] = value
    return values


def env_files_load(*, base_dir: Path, environ: Any = None) -> list[str]:
    """Set the variables of ``.env`` and ``var/genesys.env`` that the environment does not set.

    Only for Genesys's own settings module: a test run (``tests.settings``) must not pick up a
    developer's local files. ``GENESYS_ENV_FILES=`` (empty) turns it off. Returns the names set.
    """
    environ = os.environ if environ is None else environ
    if environ.get("DJANGO_SETTINGS_MODULE", "genesys.settings") != "genesys.settings":
        return []
    names = environ.get("GENESYS_ENV_FILES")
    files = ENV_FILES if names is None else tuple(n for n in names.split(",") if n.strip())
    loaded: list[str] = []
    for relative in files:
        path = base_dir / relative.strip()
        if not path.is_file():
            continue
        for name, value in env_file_parse(path.read_text(encoding="utf-8")).items():
            if name not in environ:
                environ[name] = value
                loaded.append(name)
    return loaded


def settings_check_or_exit() -> None:
    """Load the settings now; a bad setting prints one line naming it and exits 2 (no traceback)."""
    import sys

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018  (evaluates the settings module)
    except SettingError as exc:
        sys.stderr.write(f"Genesys cannot start: {' '.join(str(exc).split())}\n")
        raise SystemExit(2) from None


class Env:
    """Reads typed values from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def is_set(self, name: str) -> bool:
        return self._raw(name) is not None

    def str(self, name: str, default: Any = _UNSET, *, choices: Iterable[str] | None = None) -> Any:
        value = self._raw(name)
        if value is None:
            if default is _UNSET:
                raise SettingError(f"{name} is required but not set.")
            return default
        if choices is not None:
            allowed = list(choices)
            if value not in allowed:
                raise SettingError(f"{name} must be one of {', '.join(allowed)}; got {value!r}.")
        return value

    def secret(self, name: builtins.str, default: Any = _UNSET) -> Any:
        """Like ``str`` but the value never appears in an error message.

        ``<NAME>_FILE`` may point at a file holding the secret (Docker/Kubernetes secrets).
        """
        file_name = self._raw(f"{name}_FILE")
        if file_name is not None:
            try:
                return Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingError(
                    f"{name}_FILE points at {file_name!r}, which cannot be read: {exc.strerror}."
                ) from None
        value = self._raw(name)
        if value is None:
            if default is _UNSET:
                raise SettingError(f"{name} is required but not set.")
            return default
        return value

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise SettingError(
            f"{name} must be a boolean (one of 1/0, true/false, yes/no, on/off); got {value!r}."
        )

    def int(
        self,
        name: builtins.str,
        default: builtins.int,
        *,
        min_value: builtins.int | None = None,
        max_value: builtins.int | None = None,
    ) -> builtins.int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise SettingError(f"{name} must be an integer; got {value!r}.") from None
        if min_value is not None and number < min_value:
            raise SettingError(f"{name} must be at least {min_value}; got {number}.")
        if max_value is not None and number > max_value:
            raise SettingError(f"{name} must be at most {max_value}; got {number}.")
        return number

    def decimal(
        self,
        name: builtins.str,
        default: builtins.str,
        *,
        min_value: builtins.str | None = None,
        max_value: builtins.str | None = None,
    ) -> Decimal:
        value = self._raw(name) or default
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise SettingError(
                f"{name} must be a decimal number with a dot, e.g. 0.25; got {value!r}."
            ) from None
        if not number.is_finite():
            raise SettingError(f"{name} must be a finite number; got {value!r}.")
        if min_value is not None and number < Decimal(min_value):
            raise SettingError(f"{name} must be at least {min_value}; got {value}.")
        if max_value is not None and number > Decimal(max_value):
            raise SettingError(f"{name} must be at most {max_value}; got {value}.")
        return number

    def list(self, name: builtins.str, default: builtins.list[builtins.str]) -> builtins.list[builtins.str]:
        value = self._raw(name)
        if value is None:
            return list(default)
        items = [item.strip() for item in value.split(",")]
        if any(not item for item in items):
            raise SettingError(f"{name} must be a comma-separated list without empty items; got {value!r}.")
        return items

    def int_list(
        self, name: builtins.str, default: builtins.list[builtins.int], *, min_value: builtins.int = 0
    ) -> builtins.list[builtins.int]:
        """A comma-separated list of integers, each at least ``min_value`` (e.g. retry delays)."""
        items = self.list(name, [str(item) for item in default])
        try:
            numbers = [int(item) for item in items]
        except ValueError:
            raise SettingError(
                f"{name} must be a comma-separated list of integers; got {self._raw(name)!r}."
            ) from None
        if any(number < min_value for number in numbers):
            raise SettingError(f"{name} must hold integers of at least {min_value}; got {self._raw(name)!r}.")
        return numbers

    def path(self, name: builtins.str, default: Path) -> Path:
        value = self._raw(name)
        return Path(value).expanduser().resolve() if value is not None else default

    def timezone(self, name: builtins.str, default: builtins.str) -> builtins.str:
        value = self._raw(name) or default
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingError(
                f"{name} must be an IANA time zone such as Europe/Lisbon or UTC; got {value!r}."
            ) from None
        return value

    def url(self, name: builtins.str, default: Any = _UNSET, *, schemes: Iterable[builtins.str]) -> Any:
        value = self._raw(name)
        if value is None:
            if default is _UNSET:
                raise SettingError(f"{name} is required but not set.")
            return default
        allowed = tuple(schemes)
        parts = urlsplit(value)
        if parts.scheme not in allowed or (parts.scheme != "unix" and not parts.netloc):
            raise SettingError(
                f"{name} must be a URL starting with {' or '.join(s + '://' for s in allowed)}; "
                f"got {_redact_url(value)!r}."
            )
        return value

    def database(self, name: builtins.str, *, base_dir: Path) -> dict[builtins.str, Any]:
        """Parse ``DATABASE_URL`` into ``DATABASES['default']``; unset means SQLite under ``var/``."""
        value = self._raw(name)
        if value is None:
            return sqlite_database(base_dir / "var" / "genesys.sqlite3")
        return parse_database_url(value, variable=name, base_dir=base_dir)


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_env_var_name(value: object) -> bool:
    return isinstance(value, str) and bool(_ENV_NAME.match(value))


def _redact_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.password:
        return value.replace(f":{parts.password}@", ":***@", 1)
    return value


def sqlite_database(path: Path) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # IMMEDIATE avoids "database is locked" when a reader upgrades to a writer while a
            # worker holds the write lock; WAL lets the web process read during an ingest.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def parse_database_url(
    value: str, *, variable: str = "DATABASE_URL", base_dir: Path | None = None
) -> dict[str, Any]:
    """Parse a ``postgres://`` or ``sqlite://`` URL; relative SQLite paths are under ``base_dir``."""
    base_dir = base_dir or Path.cwd()
    parts = urlsplit(value)
    scheme = parts.scheme
    if scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////absolute/path.db, sqlite://:memory:
        # Exactly one slash separates the (empty) host from the path, as in SQLAlchemy's URLs.
        raw_path = ":memory:" if parts.netloc == ":memory:" else parts.path[1:]
        if not raw_path:
            raise SettingError(f"{variable} names no SQLite file; got {value!r}.")
        if raw_path == ":memory:":
            return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
        path = Path(unquote(raw_path)).expanduser()
        return sqlite_database(path if path.is_absolute() else (base_dir / path).resolve())
    if scheme in {"postgres", "postgresql", "pgsql", "postgis"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise SettingError(
                f"{variable} must name a database, e.g. postgres://user@127.0.0.1:5432/genesys; "
                f"got {_redact_url(value)!r}."
            )
        try:
            port = parts.port
        except ValueError:
            raise SettingError(f"{variable} has an invalid port; got {_redact_url(value)!r}.") from None
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        config: dict[str, Any] = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(port or ""),
            "OPTIONS": options,
        }
        return config
    raise SettingError(f"{variable} must start with postgres:// or sqlite://; got {_redact_url(value)!r}.")
