"""``{% home_page as home %}``: the admin home page's data for the logged-in user (genesys.home)."""

from __future__ import annotations

from typing import Any

from django import template

from genesys.home import HomePage, age_text, home_page_get

register = template.Library()


@register.simple_tag(takes_context=True)
def home_page(context: dict[str, Any]) -> HomePage:
    return home_page_get(user=context["request"].user)


@register.filter
def age(seconds: float | None) -> str:
    """A duration an operator reads at a glance: "45 s", "12 min", "3 h", "2 d"."""
    return age_text(seconds)
