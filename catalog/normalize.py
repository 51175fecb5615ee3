"""Pure normalisation rules for catalog keys (no database).

Brands and categories are unique by their normalised name so that "LG", "lg " and "L.G" typed
by different suppliers... stay distinct only where they really differ: we fold case, accents and
whitespace, nothing else (punctuation carries meaning in brand names such as "B&O").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_PARTNUMBER_NOISE = re.compile(r"[\s\-_./]+")


@lru_cache(maxsize=65_536)
def name_normalize(value: str) -> str:
    """Fold case, accents and runs of whitespace: "  Informática  Portáteis" -> "informatica portateis".

    Cached: an ingest normalises the same few hundred brand and category names on every row.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", without_marks).strip().casefold()


def partnumber_normalize(value: str) -> str:
    """Manufacturer part numbers match across suppliers regardless of case, spaces and dashes.

    "WAN-28282 ES", "wan28282es" and "WAN.28282/ES" are the same part.
    """
    return _PARTNUMBER_NOISE.sub("", unicodedata.normalize("NFKC", value)).upper()


def display_name_clean(value: str) -> str:
    """Collapse whitespace for a name that will be shown (keeps case and accents)."""
    return _SPACES.sub(" ", value).strip()
