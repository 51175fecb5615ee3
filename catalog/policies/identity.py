"""Product identity rules, without a database: which product a row is, and when rows disagree.

Which product (``identity_resolve``), for each proposal (one feed row, by its key):

1. A split proposal (an operator's rule gave it an identity ``variant``) is the product with its
   brand, normalised part number and variant, and no other.
2. Otherwise a valid GTIN decides: the product with that GTIN.
3. A GTIN nobody has, or none, falls back to brand + normalised part number: the oldest product
   with them and no variant; with a GTIN the row gave, only a product without GTIN qualifies (two
   GTINs are two products).
4. No product: create one. Rows of one chunk that would create the same product (same GTIN; or,
   without GTIN, the same brand + part number as an earlier new one) share it.
5. A matched product gets the proposal's fields where its own are empty (``canonical_fill``):
   a supplier never overwrites what another supplier or an operator set, and later rows of the
   chunk see the filled product.
6. A fill whose GTIN another product of the chunk claims too (a new one, or an earlier fill) is a
   conflict: the product keeps its identity and takes only the descriptive fields.

A supplier's feed often gives one part number to items that are not the same product (a machine
and its spare pads; the 1 L and the 5 L pack of one line), and GTINs are reused and mistyped.
Merging them would sell one at the other's price. These rules say whether a group of rows of one
feed that resolved to one product really describe one product (``identity_conflicts``), and
whether a new cost is implausibly low against the other suppliers' offers (``price_outlier``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median
from typing import cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.gtin import gtin_normalize
from catalog.normalize import name_normalize, partnumber_normalize

# Canonical product fields a proposal may fill when they are empty (it never overwrites).
FILLABLE_FIELDS = (
    "gtin",
    "brand_id",
    "partnumber",
    "partnumber_normalized",
    "name",
    "description",
    "image_url",
    "weight",
    "category_id",
)
IDENTITY_FIELDS = frozenset({"gtin", "brand_id", "partnumber", "partnumber_normalized"})
# What a candidate must carry: its id, its identity and the fields a proposal may fill.
CANDIDATE_FIELDS = ("id", "variant", *FILLABLE_FIELDS)

MATCH, FILL, CREATE, CONFLICT = "match", "fill", "create", "conflict"


@dataclass(frozen=True, slots=True)
class ProductProposal:
    """What one row says about its product. ``fill`` holds the descriptive fields (name,
    description, image_url, weight, category_id) it would fill on a product that lacks them."""

    key: str  # the row's key (its SKU): the verdict is returned under it
    gtin: str | None = None  # a valid GTIN-14, or None
    brand_id: int | None = None
    partnumber: str = ""
    partnumber_normalized: str = ""
    variant: str = ""  # an operator's split rule: the product of its own this row is
    fill: Mapping[str, object] = field(default_factory=dict)

    def identity_key(self) -> tuple:
        """The key of the product this proposal would create (its unique constraint)."""
        if self.gtin:
            return ("gtin", self.gtin)
        return ("bpn", self.brand_id, self.partnumber_normalized, self.variant)

    def proposed(self) -> dict[str, object]:
        return {
            "gtin": self.gtin,
            "brand_id": self.brand_id,
            "partnumber": self.partnumber,
            "partnumber_normalized": self.partnumber_normalized,
            **self.fill,
        }


@dataclass
class IdentityPlan:
    """``identity_resolve``'s answer: what to match, fill and create."""

    product_of: dict[str, int] = field(default_factory=dict)  # row key -> existing product id
    verdicts: dict[str, str] = field(default_factory=dict)  # row key -> match/fill/create/conflict
    fills: dict[int, dict[str, object]] = field(default_factory=dict)  # product id -> fields
    creates: dict[tuple, ProductProposal] = field(default_factory=dict)  # identity key -> first row
    create_key_of: dict[str, tuple] = field(default_factory=dict)  # row key -> identity key


def canonical_fill(*, current: Mapping[str, object], proposed: Mapping[str, object]) -> dict[str, object]:
    """The fields of ``proposed`` whose current value is empty: fill, never overwrite."""
    changes: dict[str, object] = {}
    for name in FILLABLE_FIELDS:
        new = proposed.get(name)
        if new in (None, "") or current.get(name) not in (None, ""):
            continue
        changes[name] = new
    return changes


class _Candidates:
    """The stored products a chunk's proposals may be, indexed by GTIN and by brand + part number."""

    def __init__(self, candidates: Iterable[Mapping[str, object]]) -> None:
        self.by_gtin: dict[object, dict[str, object]] = {}
        self.by_pair: dict[tuple, list[dict[str, object]]] = {}
        for candidate in sorted((dict(c) for c in candidates), key=lambda c: cast(int, c["id"])):
            if candidate.get("gtin"):
                self.by_gtin[candidate["gtin"]] = candidate
            key = (candidate.get("brand_id"), candidate.get("partnumber_normalized"), candidate["variant"])
            self.by_pair.setdefault(key, []).append(candidate)

    def match(self, proposal: ProductProposal) -> dict[str, object] | None:
        pair = (proposal.brand_id, proposal.partnumber_normalized)
        if proposal.variant:  # rule 1
            same = self.by_pair.get((*pair, proposal.variant), [])
            return same[0] if same else None
        found = self.by_gtin.get(proposal.gtin) if proposal.gtin else None  # rule 2
        if found is not None or proposal.brand_id is None or not proposal.partnumber_normalized:
            return found
        same = self.by_pair.get((*pair, ""), [])  # rule 3
        if proposal.gtin:
            return next((c for c in same if c.get("gtin") is None), None)
        return same[0] if same else None


def identity_resolve(
    *, proposals: Sequence[ProductProposal], candidates: Iterable[Mapping[str, object]]
) -> IdentityPlan:
    """Decide, for each proposal, the product it is (the rules are in the module's docstring).

    ``candidates`` are the stored products with the proposals' GTINs or brand + part numbers
    (``CANDIDATE_FIELDS``); a proposal's key appears once in ``product_of`` or ``create_key_of``.
    """
    index = _Candidates(candidates)
    plan = IdentityPlan()
    new_pairs: dict[tuple, tuple] = {}  # brand + part number -> key of the chunk's new product
    for proposal in proposals:
        match = index.match(proposal)
        if match is None:
            _plan_create(plan, proposal, new_pairs)
            continue
        product_id = int(match["id"])  # type: ignore[call-overload]
        plan.product_of[proposal.key] = product_id
        changes = canonical_fill(current=match, proposed=proposal.proposed())
        plan.verdicts[proposal.key] = FILL if changes else MATCH
        if changes:
            plan.fills.setdefault(product_id, {}).update(changes)
            match.update(changes)  # later rows of the chunk see the filled product (rule 5)
    _plan_conflicts(plan)
    return plan


def _plan_create(plan: IdentityPlan, proposal: ProductProposal, new_pairs: dict[tuple, tuple]) -> None:
    key = proposal.identity_key()
    pair = (proposal.brand_id, proposal.partnumber_normalized)
    if not proposal.gtin and not proposal.variant and pair in new_pairs:
        key = new_pairs[pair]  # rule 4: like a stored product, the chunk's first new one matches
    plan.creates.setdefault(key, proposal)
    plan.create_key_of[proposal.key] = key
    plan.verdicts[proposal.key] = CREATE
    if not proposal.variant and proposal.brand_id is not None and proposal.partnumber_normalized:
        new_pairs.setdefault(pair, key)


def _plan_conflicts(plan: IdentityPlan) -> None:
    """Rule 6: a GTIN claimed by a new product, or by an earlier fill, is not filled again."""
    claimed = {key[1] for key in plan.creates if key[0] == "gtin"}
    conflicted: set[int] = set()
    for product_id, changes in plan.fills.items():
        gtin = changes.get("gtin")
        if gtin is None:
            continue
        if gtin in claimed:
            for name in IDENTITY_FIELDS:
                changes.pop(name, None)
            conflicted.add(product_id)
        claimed.add(gtin)
    for key, product_id in plan.product_of.items():
        if product_id in conflicted:
            plan.verdicts[key] = CONFLICT


@dataclass(frozen=True, slots=True)
class IdentityRow:
    """One offer of the group as its feed gave it."""

    sku: str
    name: str
    price: Decimal
    gtin_raw: str = ""
    partnumber: str = ""


@dataclass(frozen=True, slots=True)
class IdentityThresholds:
    """``name_similarity``: the smallest share of common words (Jaccard, 0-1) two names of one
    product have; ``price_factor``: the most the dearest offer may cost over the cheapest."""

    name_similarity: float = 0.3
    price_factor: Decimal = Decimal("3")


# Words that say nothing about which product a name is.
_STOP_WORDS = frozenset(
    "a o as os e de da do das dos em para com sem por um uma the an and of for with to in on by".split()
)
_WORD = re.compile(r"[0-9a-z]+")
_NUMBER = r"(\d+(?:[.,]\d+)?)"
# Unit -> (dimension, factor to the dimension's base unit).
_UNITS: dict[str, tuple[str, Decimal]] = {
    "ml": ("volume", Decimal("1")),
    "cl": ("volume", Decimal("10")),
    "dl": ("volume", Decimal("100")),
    "l": ("volume", Decimal("1000")),
    "lt": ("volume", Decimal("1000")),
    "ltr": ("volume", Decimal("1000")),
    "litro": ("volume", Decimal("1000")),
    "litros": ("volume", Decimal("1000")),
    "liter": ("volume", Decimal("1000")),
    "liters": ("volume", Decimal("1000")),
    "litre": ("volume", Decimal("1000")),
    "litres": ("volume", Decimal("1000")),
    "mg": ("mass", Decimal("0.001")),
    "g": ("mass", Decimal("1")),
    "gr": ("mass", Decimal("1")),
    "kg": ("mass", Decimal("1000")),
    "mm": ("length", Decimal("1")),
    "cm": ("length", Decimal("10")),
    "m": ("length", Decimal("1000")),
    "mt": ("length", Decimal("1000")),
    "w": ("power", Decimal("1")),
    "kw": ("power", Decimal("1000")),
    "v": ("voltage", Decimal("1")),
    "mah": ("charge", Decimal("1")),
    "ah": ("charge", Decimal("1000")),
    "gb": ("storage", Decimal("1")),
    "tb": ("storage", Decimal("1000")),
    "oz": ("ounces", Decimal("1")),
    "lb": ("pounds", Decimal("1")),
}
_UNIT_NAMES = "|".join(sorted(_UNITS, key=len, reverse=True))
_MEASURE = re.compile(_NUMBER + r"\s*(" + _UNIT_NAMES + r")(?![0-9a-z])")
_COUNT_WORDS = (
    r"(?:pcs|pc|pieces|pecas|unid|unidades|un|uds|units|pack|pk|stk|stuck|rolos|rolls|folhas|sheets)"
)
_PACK = (
    re.compile(r"(?<![0-9a-z.,])(\d+)\s*x(?![0-9a-z])"),  # "2x", "2 x 500 ml"
    # "x6", but not the "x 500" of "2 x 500 ml"
    re.compile(r"(?<![0-9a-z])x\s*(\d+)(?![0-9a-z.,])(?!\s*(?:" + _UNIT_NAMES + r")(?![0-9a-z]))"),
    re.compile(r"(?:pack|caixa|box|conjunto|set|kit)\s*(?:of|de|com)?\s*(\d+)(?![0-9a-z.,])"),
    re.compile(r"(?<![0-9a-z.,])(\d+)\s*" + _COUNT_WORDS + r"(?![0-9a-z])"),
)
# Colour words in Portuguese, Spanish and English, folded to one name each.
_COLOURS = {
    **dict.fromkeys(("black", "preto", "preta", "negro", "negra"), "black"),
    **dict.fromkeys(("white", "branco", "branca", "blanco", "blanca"), "white"),
    **dict.fromkeys(("red", "vermelho", "vermelha", "rojo", "roja"), "red"),
    **dict.fromkeys(("blue", "azul"), "blue"),
    **dict.fromkeys(("green", "verde"), "green"),
    **dict.fromkeys(("yellow", "amarelo", "amarela", "amarillo"), "yellow"),
    **dict.fromkeys(("grey", "gray", "cinzento", "cinzenta", "cinza", "gris"), "grey"),
    **dict.fromkeys(("silver", "prateado", "prateada", "prata", "plata"), "silver"),
    **dict.fromkeys(("gold", "dourado", "dourada", "ouro", "dorado"), "gold"),
    **dict.fromkeys(("pink", "rosa"), "pink"),
    **dict.fromkeys(("purple", "roxo", "roxa", "violeta", "lilas"), "purple"),
    **dict.fromkeys(("orange", "laranja", "naranja"), "orange"),
    **dict.fromkeys(("brown", "castanho", "castanha", "marrom", "marron"), "brown"),
    **dict.fromkeys(("beige", "bege"), "beige"),
}

_VARIANT_LABELS = {
    "volume": gettext_lazy("volume"),
    "mass": gettext_lazy("weight"),
    "length": gettext_lazy("length"),
    "power": gettext_lazy("power"),
    "voltage": gettext_lazy("voltage"),
    "charge": gettext_lazy("battery capacity"),
    "storage": gettext_lazy("storage"),
    "ounces": gettext_lazy("ounces"),
    "pounds": gettext_lazy("pounds"),
    "pack": gettext_lazy("pack size"),
    "colour": gettext_lazy("colour"),
}


def name_words(name: str) -> frozenset[str]:
    """The words of a name that identify it: folded, without stop words and variant words."""
    text = name_normalize(name)
    return frozenset(word for word in _WORD.findall(text) if word not in _STOP_WORDS and word not in _COLOURS)


def name_similarity(a: str, b: str) -> float:
    """Share of common words (Jaccard) of two names; 1.0 when either says nothing."""
    words_a, words_b = name_words(a), name_words(b)
    if not words_a or not words_b:
        return 1.0
    return len(words_a & words_b) / len(words_a | words_b)


def name_variants(name: str) -> dict[str, frozenset[str]]:
    """Pack-size and variant words of a name by dimension: ``{"volume": {"5000"}, "pack": {"6"}}``.

    Sizes are converted to one unit per dimension (``1L`` and ``1000 ml`` are the same volume),
    colours folded across languages (``preto`` is ``black``).
    """
    text = name_normalize(name)
    found: dict[str, set[str]] = {}
    for number, unit in _MEASURE.findall(text):
        dimension, factor = _UNITS[unit]
        value = (Decimal(number.replace(",", ".")) * factor).normalize()
        found.setdefault(dimension, set()).add(f"{value:f}")
    for pattern in _PACK:
        for count in pattern.findall(text):
            if int(count) > 1:
                found.setdefault("pack", set()).add(str(int(count)))
    colours = {_COLOURS[word] for word in _WORD.findall(text) if word in _COLOURS}
    if colours:
        found["colour"] = colours
    return {dimension: frozenset(values) for dimension, values in found.items()}


def _gtin_key(raw: str) -> str:
    """The GTIN a row gave, comparable across spellings: the 14 digits, else the raw digits."""
    check = gtin_normalize(raw)
    if check.gtin:
        return check.gtin
    return "".join(ch for ch in raw if ch.isdigit()).lstrip("0")


def identity_conflicts(rows: Sequence[IdentityRow], *, thresholds: IdentityThresholds) -> list[str]:
    """Why the rows of one feed that resolved to one product are not one product (empty: they are).

    Each reason names the rows it is about. Every row is compared with the group's first row for
    names and variant words, so a group costs linear time whatever its size.
    """
    if len(rows) < 2:
        return []
    reasons: list[str] = []
    priced = [row for row in rows if row.price > 0]
    if len(priced) >= 2:
        cheapest = min(priced, key=lambda row: row.price)
        dearest = max(priced, key=lambda row: row.price)
        if dearest.price > cheapest.price * thresholds.price_factor:
            reasons.append(
                _(
                    "prices %(low)s (%(low_sku)s) and %(high)s (%(high_sku)s) "
                    "are more than %(factor)s times apart"
                )
                % {
                    "low": f"{cheapest.price.normalize():f}",
                    "low_sku": cheapest.sku,
                    "high": f"{dearest.price.normalize():f}",
                    "high_sku": dearest.sku,
                    "factor": f"{thresholds.price_factor.normalize():f}",
                }
            )
    gtins: dict[str, str] = {}
    for row in rows:
        if row.gtin_raw.strip():
            gtins.setdefault(_gtin_key(row.gtin_raw), row.sku)
    if len(gtins) > 1:
        shown = ", ".join(f"{gtin} ({sku})" for gtin, sku in list(gtins.items())[:5])
        reasons.append(_("different GTINs: %(gtins)s") % {"gtins": shown})
    partnumbers: dict[str, str] = {}
    for row in rows:
        if row.partnumber.strip():
            partnumbers.setdefault(partnumber_normalize(row.partnumber), row.sku)
    if len(partnumbers) > 1:
        shown = ", ".join(f"{pn} ({sku})" for pn, sku in list(partnumbers.items())[:5])
        reasons.append(_("different part numbers: %(partnumbers)s") % {"partnumbers": shown})
    anchor = rows[0]
    anchor_variants = name_variants(anchor.name)
    for row in rows[1:]:
        similarity = name_similarity(anchor.name, row.name)
        if similarity < thresholds.name_similarity:
            reasons.append(
                _('names "%(a)s" (%(a_sku)s) and "%(b)s" (%(b_sku)s) share few words (%(share)s)')
                % {
                    "a": anchor.name,
                    "a_sku": anchor.sku,
                    "b": row.name,
                    "b_sku": row.sku,
                    "share": f"{similarity:.0%}",
                }
            )
            break
    for row in rows[1:]:
        variants = name_variants(row.name)
        differing = sorted(
            dimension
            for dimension in anchor_variants.keys() & variants.keys()
            if anchor_variants[dimension] != variants[dimension]
        )
        if differing:
            reasons.append(
                _('different %(what)s in "%(a)s" (%(a_sku)s) and "%(b)s" (%(b_sku)s)')
                % {
                    "what": ", ".join(str(_VARIANT_LABELS.get(d, d)) for d in differing),
                    "a": anchor.name,
                    "a_sku": anchor.sku,
                    "b": row.name,
                    "b_sku": row.sku,
                }
            )
            break
    return reasons


def identity_signature(skus: Sequence[str]) -> list[str]:
    """The group's SKUs as an operator's decision remembers them (sorted, distinct)."""
    return sorted(set(skus))


def price_outlier(
    *,
    price: Decimal,
    others: Sequence[Decimal],
    factor: Decimal,
    released_price: Decimal | None = None,
    release_tolerance: Decimal = Decimal("0.1"),
) -> Decimal | None:
    """The median of the other offers when ``price`` is below it / ``factor`` (else None).

    ``others`` are the costs of the product's offers from other suppliers (zero costs ignored).
    An operator's release is remembered at ``released_price``: the same price (within
    ``release_tolerance``, a fraction) is not held again; a material change is checked again.
    """
    costs = [cost for cost in others if cost > 0]
    if not costs or price <= 0:
        return None
    if released_price is not None and released_price > 0:
        if abs(price - released_price) <= released_price * release_tolerance:
            return None
    middle = Decimal(median(costs))
    return middle if price * factor < middle else None
