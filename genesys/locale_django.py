"""Strings of Django (and its admin) that Django's Portuguese catalog lacks, for Genesys's own.

Django ships ``pt`` (and ``pt_BR``); a few of its strings have no Portuguese there, so the admin
would show them in English. Marking them here keeps them in ``locale/pt_PT`` through makemessages
(they are never called: ``gettext_noop`` only marks). Genesys's catalog wins over Django's for
the same message id. Found by comparing Django's ``en`` and ``pt`` catalogs of the installed
version; tests/genesys/test_translations.py checks they render in Portuguese.
"""

from django.utils.translation import gettext_noop

# Django writes its apostrophes as U+2019: the message ids must match exactly.
# ruff: noqa: RUF001

DJANGO_STRINGS_MISSING_IN_PT = (
    # django.contrib.admin ("View" is in Django's pt catalog, left in English: the app list's links)
    gettext_noop("View"),
    gettext_noop("Error:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),
    # django.contrib.auth (the user form an admin fills in)
    gettext_noop(
        "Whether the user will be able to authenticate using a password or not. If disabled, they may "
        "still be able to authenticate using other backends, such as Single Sign-On or LDAP."
    ),
    gettext_noop("Raw passwords are not stored, so there is no way to see the user’s password."),
    gettext_noop(
        "Enter a valid username. This value may contain only unaccented lowercase a-z and uppercase A-Z "
        "letters, numbers, and @/./+/-/_ characters."
    ),
    # form and model field errors an operator meets in the admin's forms
    gettext_noop("“%(value)s” value must be a decimal number."),
    gettext_noop("“%(value)s” value must be an integer."),
    gettext_noop("“%(value)s” value must be a float."),
    gettext_noop("“%(value)s” value must be either None, True or False."),
    gettext_noop("“%(value)s” is not a valid UUID."),
    gettext_noop("“%(pk)s” is not a valid value."),
    gettext_noop("Constraint “%(name)s” is violated."),
    gettext_noop("Ensure this value is a multiple of step size %(limit_value)s."),
    gettext_noop("Positive big integer"),
    gettext_noop(
        "%(datetime)s couldn’t be interpreted in time zone %(current_timezone)s; it may be ambiguous or "
        "it may not exist."
    ),
)
