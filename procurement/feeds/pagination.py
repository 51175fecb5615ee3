"""Which page to request next, and when a paginated feed is finished (docs/feeds.md).

Every type stops on an empty page; ``page`` and ``offset`` also stop on a short page. Reaching
``max_pages`` while the feed still offers more is an error, not a quiet stop: a truncated read
must never look complete, or the ingest would zero the stock of every offer it did not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.utils.translation import gettext as _
from requests.utils import parse_header_links

from procurement.feeds.download import Page, url_with_params
from procurement.feeds.errors import FeedReadError
from procurement.feeds.options import PaginationSettings
from procurement.feeds.parse_json import json_value_find


@dataclass(frozen=True, slots=True)
class PageRequest:
    number: int  # 1 for the first page fetched
    url: str  # without credentials (they are added per request)


def page_request_first(*, url: str, pagination: PaginationSettings) -> PageRequest:
    return PageRequest(1, _page_url(url, pagination, 1))


def page_request_next(
    *, base_url: str, current: PageRequest, pagination: PaginationSettings, items: int, page: Page
) -> PageRequest | None:
    """The next page to fetch, or None when ``current`` was the last one."""
    kind = pagination.type
    if kind == "none" or items == 0:
        return None
    if kind == "page" and pagination.size is not None and items < pagination.size:
        return None
    if kind == "offset" and items < pagination.limit:
        return None
    next_url = ""
    if kind in ("page", "offset"):
        next_url = _page_url(base_url, pagination, current.number + 1)
    elif kind == "next_link":
        found = json_value_find(file=page.file, path=pagination.path)
        next_url = urljoin(page.url, found.strip()) if isinstance(found, str) and found.strip() else ""
    elif kind == "link_header":
        next_url = _link_next(page)
    if not next_url:
        return None
    if urlsplit(next_url).scheme.lower() not in ("http", "https"):
        raise FeedReadError(_("The next-page link is not an http(s) address; refused."), phase="download")
    if current.number >= pagination.max_pages:
        raise FeedReadError(
            _(
                "The feed has more than %(count)s pages (pagination.max_pages); the read stopped there. "
                "Raise max_pages if the feed really is that long."
            )
            % {"count": pagination.max_pages},
            phase="download",
        )
    return PageRequest(current.number + 1, next_url)


def _page_url(url: str, pagination: PaginationSettings, number: int) -> str:
    if pagination.type == "page":
        params: dict[str, str | int] = {pagination.param: pagination.start + number - 1}
        if pagination.size_param and pagination.size is not None:
            params[pagination.size_param] = pagination.size
        return url_with_params(url, params)
    if pagination.type == "offset":
        return url_with_params(
            url,
            {
                pagination.offset_param: (number - 1) * pagination.limit,
                pagination.limit_param: pagination.limit,
            },
        )
    return url


def _link_next(page: Page) -> str:
    header = page.headers.get("Link", "") if page.headers else ""
    for link in parse_header_links(header) if header else []:
        rels = link.get("rel", "").split()
        if "next" in rels and link.get("url"):
            return urljoin(page.url, link["url"])
    return ""
