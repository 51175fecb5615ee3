"""Keep credentials out of every message, log line, run record and admin page.

Two layers: query-string values whose names look like credentials (and the feed's own ``query``
auth parameter) are masked in any URL we mention, and the actual credential values read from the
environment are masked wherever they appear, in plain or URL-encoded form, so a server that echoes
a key back in an error body cannot leak it either.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

MASK = "***"
SENSITIVE_PARAMS = frozenset(
    {
        "key",
        "apikey",
        "api_key",
        "api-key",
        "apitoken",
        "api_token",
        "token",
        "access_token",
        "auth",
        "auth_token",
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "client_secret",
        "signature",
        "sig",
        "session",
        "sessionid",
    }
)
_URL = re.compile(r"""(?:https?|ftp)://[^\s'"<>]+""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Redactor:
    """Masks ``secrets`` (credential values) and sensitive query parameters in text and URLs."""

    secrets: tuple[str, ...] = ()
    params: frozenset[str] = frozenset()

    @classmethod
    def for_credentials(cls, *, secrets: list[str], params: list[str] | None = None) -> Redactor:
        forms: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            forms.update({secret, quote(secret, safe=""), quote_plus(secret)})
        if len(secrets) == 2 and all(secrets):
            # HTTP basic: the header carries base64("user:password").
            forms.add(base64.b64encode(f"{secrets[0]}:{secrets[1]}".encode()).decode())
        # Longest first, so a secret that contains another is masked whole.
        ordered = tuple(sorted(forms, key=len, reverse=True))
        return cls(secrets=ordered, params=frozenset(p.lower() for p in params or ()))

    def url(self, url: str) -> str:
        """The URL with its password and credential-like query values masked."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text_secrets(url)
        netloc = parts.netloc
        if parts.password:
            netloc = netloc.replace(f":{parts.password}@", f":{MASK}@", 1)
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(self._sensitive(name) for name, _ in pairs):
                query = urlencode([(n, MASK if self._sensitive(n) else v) for n, v in pairs], safe="*")
        return self.text_secrets(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))

    def text(self, text: str) -> str:
        """Free text (an exception message, a response excerpt) with URLs and secrets masked."""
        return self.text_secrets(_URL.sub(lambda m: self.url(m.group(0)), text))

    def text_secrets(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def _sensitive(self, name: str) -> bool:
        lowered = name.lower()
        return lowered in SENSITIVE_PARAMS or lowered in self.params


def url_redact(url: str) -> str:
    """Mask a URL's password and credential-like query values without knowing any secret."""
    return Redactor().url(url)
