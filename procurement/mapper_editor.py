"""The mapper editor's form: a profile to form rows, a posted form back, and the page's state.

The editor (the feed's admin page, ``SupplierFeedAdmin.mapper_editor_view``) shows one row per
canonical field: its sources (picked from the feed's sample), or a constant, the grouping column
of a fill-down and its transforms with their settings, from the transforms registry. What the form
posts becomes a profile dict, which is validated by ``profile_problems`` exactly like the JSON
typed in the mapper's own page or read by ``import_suppliers``: one validator, the same messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

from procurement.feeds.preview import SAMPLE_SOURCES_MAX, FeedPreview, feed_preview, feed_sample
from procurement.feeds.profile import CANONICAL_FIELDS, REQUIRED_FIELDS, profile_problems
from procurement.feeds.transforms import TRANSFORMS
from procurement.models import FeedMapper, SupplierFeed
from procurement.services.mappers import feed_mapper_save

# Settings typed as JSON (objects) or whole numbers in the form; every other setting is text.
JSON_SETTINGS = frozenset({"words", "values"})
INTEGER_SETTINGS = frozenset({"available_quantity", "group"})
EDITOR_PREVIEW_ROWS = 10


@dataclass
class TransformRow:
    index: int
    type: str
    settings: list[tuple[str, str, bool]]  # (setting, value as typed, required)


@dataclass
class FieldRow:
    name: str
    required: bool
    sources: list[str] = field(default_factory=list)
    constant: str = ""
    inherit: str = ""
    transforms: list[TransformRow] = field(default_factory=list)


def field_rows(profile: Any) -> list[FieldRow]:
    """One row per canonical field, filled from ``profile`` (as far as it has the expected shape)."""
    fields = profile.get("fields") if isinstance(profile, dict) else None
    fields = fields if isinstance(fields, dict) else {}
    rows = []
    for name in CANONICAL_FIELDS:
        spec = fields.get(name)
        spec = {"source": spec} if isinstance(spec, str) else spec if isinstance(spec, dict) else {}
        source = spec.get("source")
        sources = [source] if isinstance(source, str) else [s for s in source or [] if isinstance(s, str)]
        constant = spec.get("constant")
        transforms = found if isinstance(found := spec.get("transforms"), list) else []
        rows.append(
            FieldRow(
                name=name,
                required=name in REQUIRED_FIELDS,
                sources=sources,
                constant="" if constant is None else str(constant),
                inherit=inherit if isinstance(inherit := spec.get("inherit"), str) else "",
                transforms=[_transform_row(i, t) for i, t in enumerate(transforms)],
            )
        )
    return rows


def _transform_row(index: int, spec: Any) -> TransformRow:
    spec = spec if isinstance(spec, dict) else {}
    kind = spec.get("type") if isinstance(spec.get("type"), str) else ""
    definition = TRANSFORMS.get(kind)
    names = list(definition.settings) if definition else [k for k in spec if k != "type"]
    required = definition.required if definition else ()
    return TransformRow(
        index=index,
        type=kind,
        settings=[(name, _setting_text(spec.get(name)), name in required) for name in names],
    )


def _setting_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def meta_text(profile: Any) -> tuple[str, str]:
    """(mode, sources one per line) of the profile's meta."""
    meta = profile.get("meta", "rest") if isinstance(profile, dict) else "rest"
    if isinstance(meta, list):
        return "list", "\n".join(str(s) for s in meta)
    return (meta if meta in ("rest", "none") else "rest"), ""


def profile_from_form(data: QueryDict) -> dict[str, Any]:
    """The profile the form describes; not validated (``profile_problems`` does that)."""
    fields: dict[str, Any] = {}
    for name in CANONICAL_FIELDS:
        spec = _field_from_form(data, name)
        if spec is not None:
            fields[name] = spec
    profile: dict[str, Any] = {"fields": fields}
    mode = data.get("meta_mode", "rest")
    if mode == "list":
        profile["meta"] = [line.strip() for line in data.get("meta_sources", "").splitlines() if line.strip()]
    elif mode == "none":
        profile["meta"] = "none"
    return profile


def _field_from_form(data: QueryDict, name: str) -> Any:
    sources = [s.strip() for s in data.getlist(f"f.{name}.source") if s.strip()]
    constant = data.get(f"f.{name}.constant", "")
    inherit = data.get(f"f.{name}.inherit", "").strip()
    transforms = _transforms_from_form(data, name)
    if not sources and constant == "" and not transforms and not inherit:
        return None  # not mapped
    spec: dict[str, Any] = {}
    if sources:
        spec["source"] = sources[0] if len(sources) == 1 else sources
    if constant != "":
        spec["constant"] = constant
    if transforms:
        spec["transforms"] = transforms
    if inherit:
        spec["inherit"] = inherit
    return spec["source"] if list(spec) == ["source"] and isinstance(spec["source"], str) else spec


def _transforms_from_form(data: QueryDict, name: str) -> list[dict[str, Any]]:
    transforms = []
    index = 0
    while f"f.{name}.t.{index}.type" in data:
        prefix = f"f.{name}.t.{index}."
        kind = data.get(prefix + "type", "")
        spec: dict[str, Any] = {"type": kind}
        definition = TRANSFORMS.get(kind)
        for setting in definition.settings if definition else ():
            text = data.get(prefix + setting, "")
            if text != "":
                spec[setting] = _setting_value(setting, text)
        transforms.append(spec)
        index += 1
    return transforms


def _setting_value(setting: str, text: str) -> Any:
    """A setting as typed: JSON for objects, whole numbers for counts; text stays text, so a
    mistyped value reaches the validator as it was typed and is refused with its message."""
    if setting in JSON_SETTINGS:
        try:
            return json.loads(text)
        except ValueError:
            return text
    if setting in INTEGER_SETTINGS and text.strip().isascii() and text.strip().isdigit():
        return int(text.strip())
    return text


def transform_add(profile: dict[str, Any], *, field_name: str, kind: str) -> dict[str, Any]:
    """``profile`` with a transform of type ``kind`` (its settings still to fill) added to a field."""
    fields = profile.setdefault("fields", {})
    spec = fields.get(field_name)
    spec = {"source": spec} if isinstance(spec, str) else dict(spec or {})
    spec["transforms"] = [*spec.get("transforms", []), {"type": kind}]
    fields[field_name] = spec
    return profile


def transform_remove(profile: dict[str, Any], *, field_name: str, index: int) -> dict[str, Any]:
    """``profile`` without the ``index``-th transform of a field."""
    spec = profile.get("fields", {}).get(field_name)
    if isinstance(spec, dict) and isinstance(spec.get("transforms"), list):
        transforms = [t for i, t in enumerate(spec["transforms"]) if i != index]
        spec = {k: v for k, v in spec.items() if k != "transforms"} | (
            {"transforms": transforms} if transforms else {}
        )
        short = list(spec) == ["source"] and isinstance(spec["source"], str)
        profile["fields"][field_name] = spec["source"] if short else spec
    return profile


@dataclass
class EditorState:
    """What the editor page shows: the form rows, the profile as JSON, its problems, the rows."""

    profile: Any
    rows: list[FieldRow]
    meta_mode: str
    meta_sources: str
    profile_json: str
    sources: list[str]
    examples: dict[str, str]
    problems: list[str] = field(default_factory=list)
    preview: FeedPreview | None = None
    sample_error: str = ""
    saved: bool = False


def mapper_editor_state(*, feed: SupplierFeed, request: HttpRequest) -> EditorState:
    """Read the form (or the active mapper on a first visit), apply the action, preview the result.

    Actions (the ``action`` button): ``preview`` (the default), ``add:<field>`` (a transform of
    the type chosen next to it), ``remove:<field>:<index>``, ``json`` (take the JSON text instead
    of the form) and ``save``. The sample's sources travel with the form, so only a first visit
    reads the feed twice (its sample, then the preview).
    """
    problems: list[str] = []
    if request.method == "POST":
        data = request.POST
        action = data.get("action", "preview")
        profile: Any = profile_from_form(data)
        if action == "json":
            try:
                profile = json.loads(data.get("profile_json", ""))
            except ValueError as exc:
                problems.append(_("profile: not valid JSON (%(reason)s)") % {"reason": exc})
        elif action.startswith("add:"):
            name = action.removeprefix("add:")
            if name in CANONICAL_FIELDS and data.get(f"f.{name}.add") in TRANSFORMS:
                profile = transform_add(profile, field_name=name, kind=data[f"f.{name}.add"])
        elif action.startswith("remove:"):
            name, _sep, index = action.removeprefix("remove:").partition(":")
            if index.isdigit():
                profile = transform_remove(profile, field_name=name, index=int(index))
        sources = [s for s in data.getlist("sample_source") if s][:SAMPLE_SOURCES_MAX]
        examples = dict(zip(sources, data.getlist("sample_example"), strict=False))
        sample_error = ""
    else:
        action = ""
        mapper = FeedMapper.objects.filter(feed=feed, is_active=True).first()
        profile = mapper.profile if mapper else {"fields": {}}
        sample = feed_sample(feed=feed)
        sources, examples, sample_error = sample.sources, sample.examples, sample.error
    problems = problems or profile_problems(profile)
    state = EditorState(
        profile=profile,
        rows=field_rows(profile),
        meta_mode=meta_text(profile)[0],
        meta_sources=meta_text(profile)[1],
        profile_json=json.dumps(profile, ensure_ascii=False, indent=2),
        sources=sources,
        examples=examples,
        problems=problems,
        sample_error=sample_error,
    )
    if problems:
        return state
    if action == "save":
        feed_mapper_save(feed=feed, profile=profile)
        state.saved = True
        return state
    state.preview = feed_preview(feed=feed, rows=EDITOR_PREVIEW_ROWS, profile=profile)
    return state
