"""What a feed's ``source_url`` may be, checked on save and again at read time.

Pure functions (no ORM, no network): the model's ``clean`` (admin form, ``import_suppliers``)
and the reader share them. Credentials never live in the URL: a query parameter whose name
looks like one, or a ``user:password@`` part, is refused with a pointer to the authentication
settings, which name environment variables instead (docs/feeds.md, docs/security.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from django.utils.translation import gettext as _

from procurement.feeds.redact import SENSITIVE_PARAMS

# Beyond the exact names the redactor knows, anything that contains one of these words.
_CREDENTIAL_WORDS = re.compile(
    r"(token|secret|passw|pwd|api[_-]?key|access[_-]?key|private[_-]?key|signature|credential|auth)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class UrlCredentials:
    """Credential-looking parts of a URL, by NAME only (their values are never kept)."""

    params: tuple[str, ...] = ()
    userinfo: bool = False

    def __bool__(self) -> bool:
        return bool(self.params) or self.userinfo


def url_credentials_find(url: str) -> UrlCredentials:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return UrlCredentials()
    names = [
        name
        for name, _value in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() in SENSITIVE_PARAMS or _CREDENTIAL_WORDS.search(name)
    ]
    return UrlCredentials(params=tuple(dict.fromkeys(names)), userinfo="@" in parts.netloc)


def url_without_credentials(url: str) -> str:
    """``url`` without its userinfo and credential-looking query parameters."""
    from urllib.parse import urlencode, urlunsplit

    parts = urlsplit(url.strip())
    found = url_credentials_find(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in found.params]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(pairs), parts.fragment))


class FeedPathError(ValueError):
    """A ``file:`` source that is not a path inside FEEDS_ROOT."""


def feeds_root_path_resolve(*, relative: str, root: Path, must_exist: bool) -> Path:
    """The real path of ``file:relative`` under ``root``, symbolic links resolved.

    Raises ``FeedPathError`` for absolute paths, ``..``, and links that lead outside ``root``;
    with ``must_exist``, ``FileNotFoundError`` when it is missing.
    """
    relative = relative.strip()
    parts = Path(relative).parts
    if not relative or relative.startswith(("/", "\\")) or Path(relative).is_absolute() or ".." in parts:
        raise FeedPathError("outside")
    root = root.resolve()
    try:
        path = (root / relative).resolve(strict=must_exist)
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(relative) from None
    except (OSError, RuntimeError):  # symlink loops, permissions
        raise FeedPathError("unresolvable") from None
    if not path.is_relative_to(root):
        raise FeedPathError("symlink")
    return path


def feed_path_message(shown: str, exc: FeedPathError) -> str:
    """Why a ``file:`` source is refused, for the reader and for the feed form."""
    if str(exc) == "symlink":
        return _("%(source)s: the path leads outside FEEDS_ROOT (through a symbolic link); refused.") % {
            "source": shown
        }
    if str(exc) == "unresolvable":
        return _("%(source)s: the path cannot be resolved.") % {"source": shown}
    return _("%(source)s: only paths relative to FEEDS_ROOT, without '..', are allowed; refused.") % {
        "source": shown
    }
