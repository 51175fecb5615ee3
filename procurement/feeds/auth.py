"""Credentials for a feed, read from the environment variables its ``auth_settings`` name.

They are read at download time (never stored), and a missing variable is reported by its NAME.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from procurement.feeds.errors import FeedReadError
from procurement.feeds.redact import Redactor
from procurement.models import AUTH_REQUIRED_KEYS


@dataclass(frozen=True, slots=True)
class Credentials:
    """What to add to each request; ``redactor`` masks these values in anything we report."""

    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    basic: tuple[str, str] | None = None
    redactor: Redactor = field(default_factory=Redactor)

    @property
    def header_names(self) -> frozenset[str]:
        names = {name.lower() for name in self.headers}
        if self.basic is not None:
            names.add("authorization")
        return frozenset(names)


def credentials_resolve(
    *, auth_type: str, auth_settings: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> Credentials:
    """Build the request credentials, or raise ``FeedReadError`` naming what is missing."""
    environ = os.environ if environ is None else environ
    if auth_type not in AUTH_REQUIRED_KEYS:
        raise FeedReadError(
            _('Unknown authentication type "%(type)s".') % {"type": auth_type}, phase="download"
        )
    for key in AUTH_REQUIRED_KEYS[auth_type]:
        if not isinstance(auth_settings.get(key), str) or not auth_settings[key].strip():
            raise FeedReadError(
                _("auth_settings.%(key)s is required for %(type)s authentication.")
                % {"key": key, "type": auth_type},
                phase="download",
            )

    def secret(key: str) -> str:
        name = auth_settings[key].strip()
        value = (environ.get(name) or "").strip()
        if not value:
            raise FeedReadError(
                _(
                    "The environment variable %(name)s (auth_settings.%(key)s) is not set; "
                    "set it where the workers run."
                )
                % {"name": name, "key": key},
                phase="download",
            )
        return value

    if auth_type == "basic":
        username, password = secret("username_env"), secret("password_env")
        return Credentials(
            basic=(username, password),
            redactor=Redactor.for_credentials(secrets=[username, password]),
        )
    if auth_type == "bearer":
        token = secret("token_env")
        return Credentials(
            headers={"Authorization": f"Bearer {token}"},
            redactor=Redactor.for_credentials(secrets=[token]),
        )
    if auth_type == "header":
        value = secret("value_env")
        return Credentials(
            headers={auth_settings["header"].strip(): value},
            redactor=Redactor.for_credentials(secrets=[value]),
        )
    if auth_type == "query":
        value = secret("value_env")
        param = auth_settings["param"].strip()
        return Credentials(
            params={param: value},
            redactor=Redactor.for_credentials(secrets=[value], params=[param]),
        )
    return Credentials()
