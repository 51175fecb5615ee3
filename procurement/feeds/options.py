"""Parsing and validation of a feed's ``format_options`` and ``pagination`` (docs/feeds.md).

Unknown keys are errors, not silently ignored: a typo such as ``"delimeter"`` would otherwise
read a ``;`` file with ``,`` and reject every row for a reason nobody can see.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 200 * MB
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
DEFAULT_RETRY_BACKOFF = 1.0
DEFAULT_MAX_SECONDS = 3600.0
DEFAULT_MAX_PAGES = 1000

COMMON_OPTIONS = ("max_bytes", "timeout", "connect_timeout", "retries", "retry_backoff", "max_seconds")
FORMAT_OPTIONS = {
    "csv": ("delimiter", "quotechar", "encoding"),
    "json": ("items_path", "lines"),
    "xml": ("item_tag", "namespaces"),
}
PAGINATION_KEYS = {
    "none": (),
    "page": ("param", "page_param", "start", "size_param", "size"),
    "offset": ("offset_param", "limit_param", "limit"),
    "next_link": ("path",),
    "link_header": (),
}


@dataclass(frozen=True, slots=True)
class HttpSettings:
    max_bytes: int = DEFAULT_MAX_BYTES
    read_timeout: float = DEFAULT_READ_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    retry_backoff: float = DEFAULT_RETRY_BACKOFF
    max_seconds: float = DEFAULT_MAX_SECONDS


@dataclass(frozen=True, slots=True)
class CsvOptions:
    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = ""  # empty: UTF-8, falling back to cp1252 with a warning


@dataclass(frozen=True, slots=True)
class JsonOptions:
    items_path: str = ""
    lines: bool = False


@dataclass(frozen=True, slots=True)
class XmlOptions:
    item_tag: str = "item"
    namespaces: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PaginationSettings:
    type: str = "none"
    param: str = "page"
    start: int = 1
    size_param: str = ""
    size: int | None = None
    offset_param: str = "offset"
    limit_param: str = "limit"
    limit: int = 100
    path: str = ""
    max_pages: int = DEFAULT_MAX_PAGES


@dataclass(frozen=True, slots=True)
class FeedSettings:
    format: str
    http: HttpSettings
    parse: CsvOptions | JsonOptions | XmlOptions
    pagination: PaginationSettings


class _Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field_name: str, key: str, message: str) -> None:
        self.by_field.setdefault(field_name, []).append(f"{key}: {message}" if key else message)


def feed_settings_parse(*, format: str, format_options: Any, pagination: Any) -> FeedSettings:
    """Typed settings for a feed, or ``ValidationError`` keyed by ``format_options`` / ``pagination``."""
    errors = _Errors()
    if format not in FORMAT_OPTIONS:
        errors.add("format", "", _('unknown format "%(format)s"; use csv, json or xml') % {"format": format})
        raise ValidationError(errors.by_field)
    options = format_options if isinstance(format_options, dict) else None
    if options is None:
        errors.add("format_options", "", _("must be a JSON object"))
        options = {}
    pages = pagination if isinstance(pagination, dict) else None
    if pages is None:
        errors.add("pagination", "", _("must be a JSON object"))
        pages = {}
    known = (*COMMON_OPTIONS, *FORMAT_OPTIONS[format])
    for key in options:
        if key not in known:
            errors.add(
                "format_options",
                key,
                _("unknown option for %(format)s feeds; the options are %(known)s")
                % {"format": format, "known": ", ".join(known)},
            )
    http = HttpSettings(
        max_bytes=_int(errors, "format_options", options, "max_bytes", DEFAULT_MAX_BYTES, minimum=1),
        read_timeout=_number(errors, options, "timeout", DEFAULT_READ_TIMEOUT, minimum=0.001),
        connect_timeout=_number(errors, options, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, minimum=0.001),
        retries=_int(errors, "format_options", options, "retries", DEFAULT_RETRIES, minimum=0, maximum=10),
        retry_backoff=_number(errors, options, "retry_backoff", DEFAULT_RETRY_BACKOFF, minimum=0),
        max_seconds=_number(errors, options, "max_seconds", DEFAULT_MAX_SECONDS, minimum=0.001),
    )
    parse: CsvOptions | JsonOptions | XmlOptions
    if format == "csv":
        parse = CsvOptions(
            delimiter=_char(errors, options, "delimiter", ","),
            quotechar=_char(errors, options, "quotechar", '"'),
            encoding=_encoding(errors, options),
        )
    elif format == "json":
        lines = options.get("lines", False)
        if not isinstance(lines, bool):
            errors.add("format_options", "lines", _("must be true or false"))
            lines = False
        parse = JsonOptions(items_path=_dotted(errors, "format_options", options, "items_path"), lines=lines)
    else:
        parse = XmlOptions(item_tag=_item_tag(errors, options), namespaces=_namespaces(errors, options))
    lines = isinstance(parse, JsonOptions) and parse.lines
    settings = FeedSettings(
        format=format, http=http, parse=parse, pagination=_pagination(errors, pages, format, lines)
    )
    if errors.by_field:
        raise ValidationError(errors.by_field)
    return settings


def _pagination(errors: _Errors, pages: dict[str, Any], format: str, lines: bool) -> PaginationSettings:
    kind = pages.get("type", "none") or "none"
    if kind not in PAGINATION_KEYS:
        errors.add(
            "pagination",
            "type",
            _('unknown type "%(type)s"; use %(types)s') % {"type": kind, "types": ", ".join(PAGINATION_KEYS)},
        )
        return PaginationSettings()
    known = ("type", "max_pages", *PAGINATION_KEYS[kind])
    for key in pages:
        if key not in known:
            errors.add(
                "pagination",
                key,
                _('unknown setting for "%(type)s" pagination; the settings are %(known)s')
                % {"type": kind, "known": ", ".join(known)},
            )
    max_pages = _int(errors, "pagination", pages, "max_pages", DEFAULT_MAX_PAGES, minimum=1)
    if kind == "page":
        param = _name(errors, pages, "param", "") or _name(errors, pages, "page_param", "page")
        size_param = _name(errors, pages, "size_param", "")
        size = _int(errors, "pagination", pages, "size", 0, minimum=1) if "size" in pages else None
        if size_param and size is None:
            errors.add("pagination", "size", _("is required when size_param is set"))
        return PaginationSettings(
            type=kind,
            param=param,
            start=_int(errors, "pagination", pages, "start", 1, minimum=0),
            size_param=size_param,
            size=size,
            max_pages=max_pages,
        )
    if kind == "offset":
        return PaginationSettings(
            type=kind,
            offset_param=_name(errors, pages, "offset_param", "offset"),
            limit_param=_name(errors, pages, "limit_param", "limit"),
            limit=_int(errors, "pagination", pages, "limit", 100, minimum=1),
            max_pages=max_pages,
        )
    if kind == "next_link":
        if format != "json":
            errors.add("pagination", "type", _("next_link pagination needs a JSON feed"))
        elif lines:
            errors.add("pagination", "type", _("next_link pagination cannot read JSON Lines"))
        path = _dotted(errors, "pagination", pages, "path")
        if not path:
            errors.add(
                "pagination", "path", _("is required: the dotted path of the next URL, e.g. links.next")
            )
        return PaginationSettings(type=kind, path=path, max_pages=max_pages)
    return PaginationSettings(type=kind, max_pages=max_pages)


def _int(
    errors: _Errors,
    field_name: str,
    data: dict[str, Any],
    key: str,
    default: int,
    *,
    minimum: int,
    maximum: int | None = None,
) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field_name, key, _("must be a whole number"))
        return default
    if value < minimum or (maximum is not None and value > maximum):
        if maximum is None:
            message = _("must be at least %(minimum)s") % {"minimum": minimum}
        else:
            message = _("must be between %(minimum)s and %(maximum)s") % {
                "minimum": minimum,
                "maximum": maximum,
            }
        errors.add(field_name, key, message)
        return default
    return value


def _number(errors: _Errors, data: dict[str, Any], key: str, default: float, *, minimum: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        errors.add(
            "format_options",
            key,
            _("must be a number of seconds, at least %(minimum)s") % {"minimum": minimum},
        )
        return default
    return float(value)


def _char(errors: _Errors, data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if value == "tab":
        value = "\t"
    if not isinstance(value, str) or len(value) != 1 or value in "\r\n":
        errors.add("format_options", key, _('must be a single character (or "tab")'))
        return default
    return value


def _encoding(errors: _Errors, data: dict[str, Any]) -> str:
    value = data.get("encoding", "")
    if value in ("", None):
        return ""
    if not isinstance(value, str):
        errors.add("format_options", "encoding", _("must be an encoding name such as utf-8 or cp1252"))
        return ""
    try:
        codecs.lookup(value)
    except LookupError:
        errors.add("format_options", "encoding", _('unknown encoding "%(name)s"') % {"name": value})
        return ""
    return value


def _dotted(errors: _Errors, field_name: str, data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str) or (value and any(not part.strip() for part in value.split("."))):
        errors.add(field_name, key, _("must be a dotted path such as data.products"))
        return ""
    return value.strip()


def _name(errors: _Errors, data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or (key in data and not value.strip()):
        errors.add("pagination", key, _("must be a query-string parameter name"))
        return default
    return value.strip()


def _item_tag(errors: _Errors, data: dict[str, Any]) -> str:
    value = data.get("item_tag", "item")
    parts = value.split(":") if isinstance(value, str) else []
    if not parts or len(parts) > 2 or any(not part.strip() for part in parts):
        errors.add("format_options", "item_tag", _("must be an element name such as item or g:item"))
        return "item"
    return value.strip()


def _namespaces(errors: _Errors, data: dict[str, Any]) -> dict[str, str]:
    value = data.get("namespaces", {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()
    ):
        errors.add("format_options", "namespaces", _('must map prefixes to URIs, e.g. {"g": "http://…"}'))
        return {}
    return dict(value)
