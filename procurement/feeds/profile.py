"""Mapper profiles (docs/mappers.md): the language, and the one validator every door uses.

``profile_problems`` lists every problem, each message starting with its path
(``fields.price.transforms[0]: unknown transform "decmal"``); the admin's JSON field, the mapper
editor, the JSON configuration import and ``profile_compile`` (``procurement.feeds.mapping``)
all call it, so a profile is accepted or refused with the same words wherever it comes from.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from procurement.feeds.transforms import transform_problems

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
META_MODES = ("rest", "none")


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
