"""Text helpers shared by the transforms and the canonical rows (pure functions)."""

from __future__ import annotations

import json
import re
import unicodedata
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

_TAG_HINT = re.compile(r"[<&]")
# Tags after which text should not run into the next word ("Preto<br>8GB" -> "Preto 8GB").
_BREAKING_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_HIDDEN_TAGS = frozenset({"script", "style", "template", "head", "title"})
# Characters no text column may hold: C0 controls but tab, newline and carriage return, DEL, and
# lone surrogates (JSON can spell them, "\ud800"; they cannot be encoded). PostgreSQL refuses
# NUL in text outright, so one of these in one row would fail the whole feed.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def controls_strip(value: str) -> str:
    """``value`` without the characters no stored text may contain (see ``_CONTROLS``)."""
    return _CONTROLS.sub("", value)


def controls_found(value: str) -> bool:
    return _CONTROLS.search(value) is not None


def controls_escape(value: str) -> str:
    """``value`` with those characters made visible (``\\x00``, ``\\ud800``), for messages."""
    return _CONTROLS.sub(lambda match: ascii(match.group(0))[1:-1], value)


def spaces_collapse(value: str) -> str:
    """Runs of whitespace (newlines, tabs, non-breaking spaces) become one space; ends stripped."""
    return " ".join(value.split())


def html_to_text(value: str) -> str:
    """Visible text of an HTML fragment: tags removed, entities decoded, whitespace collapsed."""
    if not _TAG_HINT.search(value):
        return spaces_collapse(value)
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    return spaces_collapse("".join(parser.parts))


def accents_fold(value: str) -> str:
    """Lower case without accents, for matching words: "Disponível" -> "disponivel"."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        elif tag in _BREAKING_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKING_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _BREAKING_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    def unknown_decl(self, data: str) -> None:  # CDATA and the like: keep the text
        if data.upper().startswith("CDATA[") and not self.hidden:
            self.parts.append(data[6:])


def scalar_text(value: Any) -> str:
    """A scalar as text: numbers without float noise, booleans as JSON writes them."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)
