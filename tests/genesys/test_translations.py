"""The European Portuguese catalog: complete, compiled, and used by the admin.

Operators read the admin in Portuguese (``LANGUAGE_CODE`` defaults to ``pt-pt``); the compiled
``django.mo`` is committed because a fresh machine may have no gettext tools to build it.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests import factories

CATALOG_DIR = Path(settings.LOCALE_PATHS[0]) / "pt_PT" / "LC_MESSAGES"
PO_FILE = CATALOG_DIR / "django.po"
MO_FILE = CATALOG_DIR / "django.mo"
MSGFMT = shutil.which("msgfmt")

# %(name)s, %(count)d, %(download).2f: what ``%`` fills in; a translation must keep every one.
PYTHON_PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    def catalog_items(self) -> list[tuple[str | tuple[str, int], str]]:
        """The keys and values ``gettext.GNUTranslations`` holds for this entry."""
        msgid = self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"
        if self.msgid_plural is None:
            return [(msgid, self.msgstr.get(0, ""))]
        return [((msgid, n), text) for n, text in sorted(self.msgstr.items())]


def po_entries(path: Path) -> list[Entry]:
    """The active (non-obsolete) entries of a PO file, the header first."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None  # which field continuation strings extend

    def start(line: int) -> Entry:
        nonlocal current
        if current is None or current.msgstr:
            current = Entry(line=line)
            entries.append(current)
        return current

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            start(number).flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            start(number)
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = "", line
        text = ast.literal_eval(rest)
        if keyword == "msgctxt":
            start(number).msgctxt, target = text, ("msgctxt", 0)
        elif keyword == "msgid":
            start(number).msgid, target = text, ("msgid", 0)
        elif keyword == "msgid_plural":
            current.msgid_plural, target = text, ("msgid_plural", 0)
        elif keyword == "msgstr":
            current.msgstr[0], target = text, ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            index = int(keyword[7:-1])
            current.msgstr[index], target = text, ("msgstr", index)
        elif keyword == "" and current is not None and target is not None:
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += text
            else:
                setattr(current, name, getattr(current, name) + text)
        else:
            raise ValueError(f"{path}:{number}: cannot parse {raw!r}")
    return entries


def without_creation_date(catalog: dict) -> dict:
    """msgfmt leaves the header's POT-Creation-Date out of the .mo (it only says when
    makemessages ran); every other header line and every translation must match."""
    header = "".join(
        line
        for line in catalog.get("", "").splitlines(keepends=True)
        if not line.startswith("POT-Creation-Date:")
    )
    return {**catalog, "": header}


def mo_catalog(path: Path) -> dict:
    with path.open("rb") as mo:
        return without_creation_date(dict(gettext.GNUTranslations(mo)._catalog))  # type: ignore[attr-defined]


def test_the_catalog_files_exist():
    assert PO_FILE.is_file(), "run makemessages -l pt_PT (see README, Translations)"
    assert MO_FILE.is_file(), "run compilemessages -l pt_PT and commit django.mo"


def test_the_po_header_declares_european_portuguese_and_its_plurals():
    header = po_entries(PO_FILE)[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags, "a fuzzy header is left out of the .mo, plural forms with it"
    assert "Language: pt_PT\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]


def test_every_string_is_translated_and_none_is_fuzzy():
    entries = po_entries(PO_FILE)[1:]
    assert entries, "the catalog has no strings"
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy entries (check them and remove the flag):\n" + "\n".join(fuzzy)
    untranslated = [
        f"line {e.line}: {e.msgid!r}"
        for e in entries
        if not e.msgstr
        or any(not text.strip() for text in e.msgstr.values())
        or (e.msgid_plural is not None and sorted(e.msgstr) != [0, 1])
    ]
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)


def test_translations_keep_the_placeholders():
    """What ``%`` fills in must survive translation, or the message raises or loses data."""
    wrong = []
    for entry in po_entries(PO_FILE)[1:]:
        if "python-format" not in entry.flags:
            continue
        sources = [entry.msgid] if entry.msgid_plural is None else [entry.msgid, entry.msgid_plural]
        wanted = set(PYTHON_PLACEHOLDER.findall(" ".join(sources)))
        for index, text in entry.msgstr.items():
            found = set(PYTHON_PLACEHOLDER.findall(text))
            # The singular may leave the count out ("this category" for one).
            ok = found <= wanted if entry.msgid_plural is not None and index == 0 else found == wanted
            if not ok:
                wrong.append(f"line {entry.line}: {sorted(wanted)} -> {text!r}")
    assert not wrong, "placeholders changed:\n" + "\n".join(wrong)


def test_the_compiled_catalog_matches_the_po_file():
    """Needs no gettext tools: the .mo holds exactly the .po's translations."""
    expected = {}
    for entry in po_entries(PO_FILE):
        if "fuzzy" not in entry.flags:
            expected.update(entry.catalog_items())
    assert mo_catalog(MO_FILE) == without_creation_date(expected), (
        "django.mo is stale: run compilemessages -l pt_PT"
    )


@pytest.mark.skipif(MSGFMT is None, reason="needs GNU gettext's msgfmt")
def test_the_compiled_catalog_is_what_msgfmt_builds_from_the_po_file(tmp_path):
    """The committed .mo is up to date, and the .po passes msgfmt's format checks."""
    fresh = tmp_path / "django.mo"
    result = subprocess.run(
        [MSGFMT, "--check-format", "-o", str(fresh), str(PO_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert mo_catalog(MO_FILE) == mo_catalog(fresh), "django.mo is stale: run compilemessages -l pt_PT"


@pytest.fixture
def restore_language():
    """The locale middleware activates the request's language in this thread; undo it."""
    before = translation.get_language()
    yield
    if before:
        translation.activate(before)
    else:
        translation.deactivate_all()


@pytest.mark.django_db
def test_the_admin_speaks_portuguese_to_a_portuguese_browser(staff_client, restore_language):
    factories.ProductFactory()
    response = staff_client.get(reverse("admin:catalog_product_changelist"), HTTP_ACCEPT_LANGUAGE="pt-PT")
    assert response.status_code == 200
    assert response["Content-Language"] == "pt-pt"
    html = response.content.decode()
    assert "Preço enviado" in html  # ProductAdmin's "price sent" column
    assert "Recalcular ofertas e preços agora" in html  # one of its actions
    assert "Price sent" not in html


@pytest.mark.django_db
def test_the_admin_defaults_to_portuguese(staff_client, settings, restore_language):
    settings.LANGUAGE_CODE = "pt-pt"
    factories.ProductFactory()
    response = staff_client.get(reverse("admin:catalog_product_changelist"))
    assert response["Content-Language"] == "pt-pt"
    assert "Preço enviado" in response.content.decode()


@pytest.mark.django_db
def test_the_admin_speaks_english_when_configured_so(staff_client, settings, restore_language):
    settings.LANGUAGE_CODE = "en"
    factories.ProductFactory()
    response = staff_client.get(reverse("admin:catalog_product_changelist"))
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    html = response.content.decode()
    assert "Price sent" in html
    assert "Recompute offers and prices now" in html
    assert "Preço enviado" not in html


# -- strings in the code that never reached the catalog, and log lines that skip gettext -----------

SOURCE_DIRS = ("genesys", "catalog", "procurement", "prestashop")
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext",
                 "pgettext_lazy", "npgettext", "npgettext_lazy"}  # fmt: skip
ROOT = Path(settings.BASE_DIR)


def _source_files():
    for name in SOURCE_DIRS:
        for path in sorted((ROOT / name).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _gettext_msgids(path: Path) -> list[tuple[int, str]]:
    """The literal message ids of gettext calls in a Python file (contexts and plurals by their msgid)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in GETTEXT_NAMES or not node.args:
            continue
        argument = (
            node.args[1]
            if name.startswith(("pgettext", "npgettext")) and len(node.args) > 1
            else node.args[0]
        )
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str) and argument.value:
            found.append((node.lineno, argument.value))
    return found


def test_every_string_the_code_marks_for_translation_is_in_the_catalog():
    """makemessages was run after the last change: no marked string falls back to English."""
    translated = {
        entry.msgid for entry in po_entries(PO_FILE)[1:] if entry.msgstr and "fuzzy" not in entry.flags
    }
    missing = [
        f"{path.relative_to(ROOT)}:{line}: {msgid!r}"
        for path in _source_files()
        for line, msgid in _gettext_msgids(path)
        if msgid not in translated
    ]
    assert not missing, "run makemessages and translate (README, Translations):\n" + "\n".join(missing)


# Calls whose text an operator reads (the run's log, admin messages): the text must go through
# gettext, so a plain literal or an f-string there is English in the Portuguese interface.
OPERATOR_TEXT_CALLS = {"log", "progress", "run_log", "message_user", "success", "warning", "error", "info"}


def _untranslated_operator_text(path: Path) -> list[str]:
    problems = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in OPERATOR_TEXT_CALLS:
            continue
        receiver = getattr(getattr(node.func, "value", None), "id", "")
        if name in {"log", "progress"} and receiver != "ctx":
            continue  # ctx.log / ctx.progress: the job's log lines
        if name in {"success", "warning", "error", "info"} and receiver != "messages":
            continue  # django.contrib.messages, not a logger
        texts = [kw.value for kw in node.keywords if kw.arg in ("message", "note")]
        if name == "message_user" and len(node.args) > 1:
            texts.append(node.args[1])
        elif name in {"success", "warning", "error", "info"} and len(node.args) > 1:
            texts.append(node.args[1])
        elif name in {"log", "progress"} and node.args:
            texts.append(node.args[0])
        for text in texts:
            if isinstance(text, ast.JoinedStr) or (
                isinstance(text, ast.Constant) and isinstance(text.value, str)
            ):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(text)[:80]}")
    return problems


def test_log_lines_and_admin_messages_an_operator_reads_go_through_gettext():
    problems = [problem for path in _source_files() for problem in _untranslated_operator_text(path)]
    assert not problems, "wrap these in gettext (_('... %(name)s') % {...}):\n" + "\n".join(problems)


def test_the_django_rq_template_copies_are_those_of_the_installed_django_rq():
    """templates/django_rq/ is django-rq's templates with their text through gettext; after an
    upgrade of django-rq, run scripts/django_rq_templates.py (and translate the new strings)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "django_rq_templates", ROOT / "scripts" / "django_rq_templates.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.templates_translated()
    committed = {
        path.name: path.read_text(encoding="utf-8")
        for path in (ROOT / "templates" / "django_rq").glob("*.html")
    }
    assert committed == expected, "stale copies: run scripts/django_rq_templates.py"


def test_strings_django_lacks_in_portuguese_come_from_genesyss_catalog(restore_language):
    from genesys.locale_django import DJANGO_STRINGS_MISSING_IN_PT

    with translation.override("pt-pt"):
        english = [text for text in DJANGO_STRINGS_MISSING_IN_PT if translation.gettext(text) == text]
        assert translation.gettext("Queued Jobs") == "Tarefas em fila"  # a django-rq heading
        assert translation.gettext("View") == "Ver"  # Django's pt catalog leaves it in English
    assert not english


@pytest.mark.django_db
def test_the_queues_page_speaks_portuguese(staff_client, restore_language):
    response = staff_client.get(reverse("admin:django_rq_home"), HTTP_ACCEPT_LANGUAGE="pt-PT")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Tarefas em fila" in html and "Queued Jobs" not in html


@pytest.mark.django_db
def test_the_admins_javascript_strings_django_lacks_come_from_genesyss_catalog(
    staff_client, restore_language
):
    """Django's "pt" catalog leaves some of the admin's JavaScript strings (the selector widgets,
    the action warnings) in English; Genesys's djangojs catalog covers every one of them."""
    django_js = Path(django.__file__).parent / "contrib/admin/locale/pt/LC_MESSAGES/djangojs.po"
    missing = {e.msgid for e in po_entries(django_js)[1:] if not e.msgstr or not any(e.msgstr.values())}
    ours = {e.msgid: e for e in po_entries(CATALOG_DIR / "djangojs.po")[1:]}
    assert missing <= set(ours), f"translate in locale/pt_PT/LC_MESSAGES/djangojs.po: {missing - set(ours)}"
    response = staff_client.get("/admin/jsi18n/", HTTP_ACCEPT_LANGUAGE="pt-PT")
    assert "Escolher todos os %s" in response.content.decode()
