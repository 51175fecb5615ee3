#!/usr/bin/env python
"""Write templates/django_rq/: django-rq's templates with their English text through gettext.

django-rq's templates hard-code English, so the queues pages stayed English in the pt-PT admin.
This copies each template of the installed django-rq and wraps its text nodes, its title blocks
and its button labels in ``{% translate %}``; Genesys's catalog (locale/pt_PT) has the Portuguese.
Run it after upgrading django-rq, then makemessages and translate the new strings:

    .venv/bin/python scripts/django_rq_templates.py

tests/genesys/test_translations.py fails when the committed copies differ from what this writes.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "templates" / "django_rq"
TEXT = re.compile(r">(\s*)([A-Za-z][^<>{}]*?[A-Za-z.?:)]?)(\s*)<")
BLOCK = re.compile(
    r"(\{% block (?:title|content_title) %\}(?:<h1>)?)([A-Za-z][^<{]*?)((?:</h1>)?\{% endblock %\})"
)
ATTR = re.compile(r'(value|title|placeholder)="([A-Za-z][^"{}]*)"')


def source_dir() -> Path:
    spec = importlib.util.find_spec("django_rq")
    assert spec is not None and spec.origin is not None, "django-rq is not installed"
    return Path(spec.origin).parent / "templates" / "django_rq"


def _tag(text: str) -> str:
    return '{% translate "' + text.replace('"', '\\"') + '" %}'


def template_translate(text: str) -> str:
    """One template with its English text wrapped; unchanged when it has none."""
    out = BLOCK.sub(lambda m: m.group(1) + _tag(m.group(2).strip()) + m.group(3), text)

    def node(m: re.Match) -> str:
        words = " ".join(m.group(2).split())
        if not re.search(r"[A-Za-z]{2}", words):
            return m.group(0)
        return f">{m.group(1)}{_tag(words)}{m.group(3)}<"

    out = TEXT.sub(node, out)
    out = ATTR.sub(
        lambda m: (
            m.group(0) if not re.search(r"[A-Za-z]{3}", m.group(2)) else f'{m.group(1)}="{_tag(m.group(2))}"'
        ),
        out,
    )
    if out != text and "{% load i18n" not in out:
        if "{% extends" in out:
            out = re.sub(r"(\{% extends [^%]+%\}\n)", r"\1{% load i18n %}\n", out, count=1)
        else:
            out = "{% load i18n %}\n" + out
    return out


def templates_translated() -> dict[str, str]:
    """File name -> translated template, for every django-rq template with text to translate."""
    result = {}
    for path in sorted(source_dir().glob("*.html")):
        text = path.read_text(encoding="utf-8")
        translated = template_translate(text)
        if translated != text:
            result[path.name] = translated
    return result


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, text in templates_translated().items():
        (TARGET / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(templates_translated())} templates to {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
