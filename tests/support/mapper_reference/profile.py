"""Mapper profiles (docs/mappers.md): validate once, compile once, apply to every item.

``profile_validate`` raises ``ValidationError`` whose messages start with the path of the problem
(``fields.price.transforms[0]: unknown transform "decmal"``), for the admin form and the JSON
configuration import. ``profile_compile`` turns a valid profile into a ``CompiledProfile`` whose
``item_map`` is the per-item hot path: sources resolved, transforms built, nothing re-parsed.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from genesys.outbound import text_excerpt
from procurement.feeds.text import spaces_collapse
from tests.support.mapper_reference.items import RawItem, item_flatten, value_get
from tests.support.mapper_reference.rows import Mapped, MappedRow, RowRejection, meta_clean, row_build
from tests.support.mapper_reference.transforms import (
    Transform,
    TransformError,
    transform_build,
    transform_problems,
)

CANONICAL_FIELDS = (
    "sku",
    "price",
    "stock",
    "gtin",
    "partnumber",
    "brand",
    "name",
    "description",
    "image_url",
    "weight",
    "category",
)
REQUIRED_FIELDS = ("sku", "price", "stock")
PROFILE_KEYS = ("fields", "meta")
FIELD_KEYS = ("source", "constant", "transforms", "inherit")
SOURCE_PROBE_ITEMS = 100  # JSON/XML: a source absent from this many first items is a feed warning
META_MODES = ("rest", "none")
_ABSENT = object()


class ProfileBindError(Exception):
    """The profile does not fit the feed (a required CSV column is missing)."""


def profile_problems(profile: Any) -> list[str]:
    """Every problem of a profile, each message starting with its path; empty when valid."""
    if not isinstance(profile, dict):
        return [_('profile: must be a JSON object with "fields" (and optionally "meta")')]
    problems: list[str] = []
    for key in profile:
        if key not in PROFILE_KEYS:
            problems.append(_('%(key)s: unknown key; a profile has "fields" and "meta"') % {"key": key})
    fields = profile.get("fields")
    if not isinstance(fields, dict):
        problems.append(_("fields: required, an object mapping canonical fields to sources"))
        fields = {}
    for name, spec in fields.items():
        if name not in CANONICAL_FIELDS:
            problems.append(
                _("fields.%(name)s: unknown field; the fields are %(known)s")
                % {"name": name, "known": ", ".join(CANONICAL_FIELDS)}
            )
            continue
        problems.extend(_field_problems(f"fields.{name}", spec))
    for name in REQUIRED_FIELDS:
        if name not in fields:
            problems.append(_("fields.%(name)s: required") % {"name": name})
    if fields and "gtin" not in fields and "partnumber" not in fields:
        problems.append(_("fields: map gtin, or partnumber (with brand), so that products can be identified"))
    meta = profile.get("meta", "rest")
    if not (
        meta in META_MODES or (isinstance(meta, list) and all(isinstance(s, str) and s.strip() for s in meta))
    ):
        problems.append(_('meta: must be "rest", "none" or a list of source names'))
    return problems


def _field_problems(path: str, spec: Any) -> list[str]:
    if isinstance(spec, str):
        return [] if spec.strip() else [_("%(path)s: must name a source") % {"path": path}]
    if not isinstance(spec, dict):
        return [
            _('%(path)s: must be a source name or an object with "source" and "transforms"') % {"path": path}
        ]
    problems = [
        _("%(path)s.%(key)s: unknown key (the keys are source, constant, transforms, inherit)")
        % {"path": path, "key": key}
        for key in spec
        if key not in FIELD_KEYS
    ]
    if "source" in spec and "constant" in spec:
        problems.append(_("%(path)s: use either source or constant, not both") % {"path": path})
    elif "source" in spec:
        source = spec["source"]
        valid = (isinstance(source, str) and source.strip()) or (
            isinstance(source, list) and source and all(isinstance(s, str) and s.strip() for s in source)
        )
        if not valid:
            problems.append(_("%(path)s.source: must be a source name or a list of them") % {"path": path})
    elif "constant" in spec:
        if not (spec["constant"] is None or isinstance(spec["constant"], str | int | float)):
            problems.append(_("%(path)s.constant: must be text or a number") % {"path": path})
    else:
        problems.append(_('%(path)s: needs a "source" (or a "constant")') % {"path": path})
    if "inherit" in spec:
        inherit = spec["inherit"]
        if not (isinstance(inherit, str) and inherit.strip()):
            problems.append(_("%(path)s.inherit: must name the grouping column") % {"path": path})
        elif path == "fields.sku":
            problems.append(_("%(path)s.inherit: every row needs its own SKU") % {"path": path})
        elif "source" not in spec:
            problems.append(_("%(path)s.inherit: only a field read from a source inherits") % {"path": path})
    transforms = spec.get("transforms", [])
    if not isinstance(transforms, list):
        problems.append(_("%(path)s.transforms: must be a list") % {"path": path})
        return problems
    for index, transform in enumerate(transforms):
        for setting, message in transform_problems(transform):
            where = f"{path}.transforms[{index}]" + (f".{setting}" if setting else "")
            problems.append(f"{where}: {message}")
    return problems


def profile_validate(profile: Any) -> None:
    """Raise ``ValidationError`` listing every problem of ``profile`` (each names its path)."""
    problems = profile_problems(profile)
    if problems:
        raise ValidationError(problems)


@dataclass(frozen=True, slots=True)
class FieldPlan:
    name: str
    sources: tuple[str, ...]  # empty for a constant
    as_list: bool  # the source was a list: the value is a list
    constant: Any
    transforms: tuple[Transform, ...]
    inherit: str = ""  # grouping source: a blank value takes the previous row's of the same group


def profile_compile(*, profile: dict[str, Any]) -> CompiledProfile:
    """Validate and compile ``profile``; raises ``ValidationError`` when it is invalid."""
    profile_validate(profile)
    plans = []
    for name, spec in profile["fields"].items():
        if isinstance(spec, str):
            spec = {"source": spec}
        source = spec.get("source")
        sources = tuple(s.strip() for s in ([source] if isinstance(source, str) else source or []))
        plans.append(
            FieldPlan(
                name=name,
                sources=sources,
                as_list=isinstance(source, list),
                constant=spec.get("constant"),
                transforms=tuple(transform_build(t) for t in spec.get("transforms", [])),
                inherit=spec.get("inherit", "").strip(),
            )
        )
    meta = profile.get("meta", "rest")
    return CompiledProfile(plans=tuple(plans), meta=meta if isinstance(meta, str) else tuple(meta))


class CompiledProfile:
    """A profile ready to map items; ``item_map`` is called once per item."""

    def __init__(self, *, plans: tuple[FieldPlan, ...], meta: str | tuple[str, ...]) -> None:
        self.plans = plans
        self.meta = meta
        self._steps = tuple(
            (p.name, p.sources, p.as_list, p.constant, p.transforms, p.inherit) for p in plans
        )
        self.inherits = any(p.inherit for p in plans)
        self._inherited: dict[str, tuple[Any, Any]] = {}  # field -> (group, raw value) of the last row
        self.aliases: dict[str, str] = {}  # CSV: a source as written -> the header's column name
        self._used: frozenset[str] = frozenset()
        self._used_ancestors: frozenset[str] = frozenset()
        self._used_refresh()

    @property
    def sources(self) -> list[tuple[str, str]]:
        """(source, path in the profile) for every source the profile reads."""
        found = [(s, f"fields.{plan.name}") for plan in self.plans for s in plan.sources]
        found.extend((p.inherit, f"fields.{p.name}.inherit") for p in self.plans if p.inherit)
        if isinstance(self.meta, tuple):
            found.extend((s, "meta") for s in self.meta)
        return found

    def header_bind(self, header: Sequence[str]) -> list[str]:
        """Match the profile's CSV sources to a header; returns warnings, raises for missing required columns.

        A source matches its column exactly, else ignoring case and surrounding or repeated spaces.
        """
        columns = set(header)
        folded = {spaces_collapse(name).casefold(): name for name in reversed(header)}
        self.aliases = {}
        missing: list[tuple[str, str]] = []
        for source, path in self.sources:
            if source in columns:
                continue
            match = folded.get(spaces_collapse(source).casefold())
            if match is not None:
                self.aliases[source] = match
            else:
                missing.append((source, path))
        self._used_refresh()
        warnings = []
        fatal = []
        for source, path in missing:
            if path.removeprefix("fields.") in REQUIRED_FIELDS:
                fatal.append(_('column "%(source)s" (%(path)s)') % {"source": source, "path": path})
            else:
                warnings.append(
                    _('Column "%(source)s" (%(path)s) is not in the CSV header; the field stays empty.')
                    % {"source": source, "path": path}
                )
        if fatal:
            # The header is whatever the server sent: a short, printable excerpt only.
            shown = text_excerpt(", ".join(header[:30]) + (", …" if len(header) > 30 else ""), limit=300)
            message = _("The CSV header lacks %(missing)s. Its columns are: %(columns)s.") % {
                "missing": _(" and ").join(fatal),
                "columns": shown,
            }
            if len(header) == 1 and any(sep in header[0] for sep in ";\t|,"):
                message += " " + _("A single column: is format_options.delimiter right?")
            raise ProfileBindError(message)
        return warnings

    def item_map(self, item: RawItem, *, raw_digest: str = "") -> MappedRow | RowRejection:
        """The canonical row for one item, or why it was rejected (runs once per item: kept lean)."""
        data = item.data
        aliases = self.aliases
        values: dict[str, Mapped] = {}
        errors: list[str] = []
        for name, sources, as_list, constant, transforms, inherit in self._steps:
            if not sources:
                raw = constant
            elif as_list:
                raw = [value_get(data, aliases.get(s, s)) for s in sources]
            else:
                source = aliases.get(sources[0], sources[0]) if aliases else sources[0]
                raw = data.get(source, _ABSENT)
                if raw is _ABSENT or type(raw) is dict:  # a dotted path, or an XML element with attributes
                    raw = value_get(data, source)
            if inherit:
                raw = self._inherit(name, raw, value_get(data, aliases.get(inherit, inherit)))
            value = raw
            if transforms:
                try:
                    for transform in transforms:
                        value = transform(value)
                except TransformError as exc:
                    errors.append(f"{name}: {exc}")
                    continue
            values[name] = (raw, value)
        warnings: list[str] = []
        meta = meta_clean(self._meta_pairs(data), warnings) if self.meta != "none" else {}
        return row_build(
            line=item.line,
            values=values,
            errors=errors,
            meta=meta,
            warnings=warnings,
            data=data,
            raw_digest=raw_digest,
        )

    def _inherit(self, name: str, raw: Any, group: Any) -> Any:
        """Fill-down: a blank value takes the last value of the field in the same group (the rows
        of a group are consecutive, like the variant rows of Shopify's product CSV)."""
        if not _blank(raw):
            self._inherited[name] = (group, raw)
            return raw
        last = self._inherited.get(name)
        if last is not None and not _blank(group) and last[0] == group:
            return last[1]
        return raw

    def source_probe(self) -> SourceProbe:
        """A watcher of the first items of a JSON/XML feed for sources that never occur in them."""
        return SourceProbe(sources=self.sources, limit=SOURCE_PROBE_ITEMS)

    def _meta_pairs(self, data: dict[str, Any]) -> list[tuple[str, Any]]:
        if isinstance(self.meta, tuple):
            pairs: list[tuple[str, Any]] = []
            for source in self.meta:
                pairs.extend(item_flatten(value_get(data, self.aliases.get(source, source)), source))
            return pairs
        used, ancestors = self._used, self._used_ancestors
        return [
            (key, value)
            for key, value in item_flatten(data)
            if key not in used and key not in ancestors and not _has_used_ancestor(key, used)
        ]

    def _used_refresh(self) -> None:
        used = {self.aliases.get(s, s) for plan in self.plans for s in plan.sources}
        ancestors = set()
        for source in used:
            parts = source.split(".")
            ancestors.update(".".join(parts[:i]) for i in range(1, len(parts)))
        self._used = frozenset(used)
        self._used_ancestors = frozenset(ancestors)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if type(value) is str:
        return not value.strip()
    if type(value) is list:
        return all(_blank(item) for item in value)
    return False


def source_present(data: dict[str, Any], source: str) -> bool:
    """Whether ``source`` exists in the item (a key, or a dotted path), even with an empty value."""
    if source in data:
        return True
    value: Any = data
    for part in source.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False
    return True


class SourceProbe:
    """Sources of a JSON/XML profile never found in the first items: a mistyped source maps
    nothing on every row, silently, unless someone says so (CSV headers are checked instead)."""

    KEYS_KEPT = 2000

    def __init__(self, *, sources: list[tuple[str, str]], limit: int) -> None:
        self.pending: dict[str, str] = {}
        for source, path in sources:
            self.pending.setdefault(source, path)
        self.limit = limit
        self.items = 0
        self.keys: set[str] = set()
        self.finished = not self.pending

    def observe(self, data: dict[str, Any]) -> None:
        if self.finished:
            return
        self.items += 1
        for source in [s for s in self.pending if source_present(data, s)]:
            del self.pending[source]
        if self.pending and len(self.keys) < self.KEYS_KEPT:
            for key, _value in item_flatten(data):
                parts = key.split(".")
                self.keys.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        if self.items >= self.limit or not self.pending:
            self.finished = True

    def warnings(self) -> list[str]:
        """One warning per missing source, with a close key of the items as a suggestion."""
        if not self.items:
            return []
        messages = []
        for source, path in self.pending.items():
            field = path.removeprefix("fields.")
            message = _("%(field)s ← %(source)s: not found in any of the first %(count)s items") % {
                "field": field,
                "source": source,
                "count": self.items,
            }
            suggestion = self._suggest(source)
            if suggestion:
                message += _("; did you mean %(suggestion)s?") % {"suggestion": suggestion}
            messages.append(message)
        return messages

    def _suggest(self, source: str) -> str | None:
        keys = sorted(self.keys)
        tail = source.rsplit(":", 1)[-1].casefold()
        for key in keys:  # the same name with another namespace prefix, or another case
            if key.rsplit(":", 1)[-1].casefold() == tail:
                return key
        close = difflib.get_close_matches(source, keys, n=1, cutoff=0.75)
        return close[0] if close else None


def _has_used_ancestor(key: str, used: frozenset[str]) -> bool:
    """``pricing.net.amount`` is used when ``pricing.net`` is a source."""
    position = key.find(".")
    while position != -1:
        if key[:position] in used:
            return True
        position = key.find(".", position + 1)
    return False
