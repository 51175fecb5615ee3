"""XML pages with ``lxml.etree.iterparse``: each ``item_tag`` element becomes a dict, then is freed.

Names keep their namespace prefix (``g:price``), taken from ``format_options.namespaces`` when it
maps the element's namespace, else from the document's own declarations, so a Google Merchant
Center feed maps with ``"g:id"``, ``"g:price"``... An element becomes:

* its text, when it has neither children nor attributes;
* otherwise a dict: children by name (a list when a name repeats), ``@name`` for attributes and
  ``#text`` for text next to them (a source that lands on such a dict reads its ``#text``).

Security: entities are never expanded, DTDs never loaded, nothing is fetched from the network,
and a document whose DOCTYPE declares entities or elements (billion laughs, XXE) is refused
outright. Memory stays flat: every finished element is cleared and its earlier siblings dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any

from django.utils.translation import gettext as _
from lxml import etree

from genesys.outbound import text_excerpt
from procurement.feeds.errors import FeedReadError
from procurement.feeds.mapping import TEXT_KEY, ItemError, RawItem
from procurement.feeds.options import XmlOptions


def xml_items_parse(
    *, file: IO[bytes], options: XmlOptions, warn: Callable[[str], None]
) -> Iterator[RawItem | ItemError]:
    """Yield one ``RawItem`` per ``item_tag`` element (outermost ones; nested same-name ones are data)."""
    names = _Names(options)
    context = etree.iterparse(
        file,
        events=("start", "end", "start-ns"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,  # keeps libxml2's limits on depth and text-node size
        remove_comments=True,
        remove_pis=True,
    )
    root_name = ""
    depth = 0  # > 0 while inside an item
    count = 0
    try:
        for event, element in context:
            if event == "start-ns":
                names.declare(*element)
                continue
            if event == "start":
                if not root_name:
                    root_name = names.name_of(element.tag, element.prefix)
                    _doctype_check(element)
                if depth:
                    depth += 1
                elif names.is_item(element):
                    depth = 1
                continue
            if depth:
                depth -= 1
                if depth:
                    continue  # an element inside the item: kept until the item ends
                count += 1
                yield _item(count, names.value_of(element))
            _element_free(element)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        raise FeedReadError(
            _("Malformed XML at line %(line)s, column %(column)s: %(reason)s.")
            % {"line": line, "column": column, "reason": text_excerpt(exc.msg or "")},
            phase="parse",
        ) from None
    if count == 0 and root_name:
        warn(
            _("No <%(tag)s> element in the XML (format_options.item_tag); its root element is <%(root)s>.")
            % {"tag": options.item_tag, "root": text_excerpt(root_name, limit=60)}
        )


def _item(count: int, data: Any) -> RawItem:
    """An item element's value as an item: an element with only text is ``{"#text": text}``."""
    if not isinstance(data, dict):
        data = {TEXT_KEY: data} if data else {}
    return RawItem(count, data)


def _element_free(element: Any) -> None:
    """Free what is done: the element's content and the siblings before it (memory stays flat)."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


class _Names:
    """Element names with their prefixes, which element is an item, and an element as a value."""

    def __init__(self, options: XmlOptions) -> None:
        self.options = options
        self.want_prefix, _sep, self.want_local = options.item_tag.rpartition(":")
        self.uri_prefix: dict[str, str] = {uri: prefix for prefix, uri in options.namespaces.items()}
        self.declared: dict[str, str] = {}  # prefix -> URI, as the document declares them
        self.names: dict[str, str] = {}  # Clark-notation tag -> prefixed name (a cache: tags repeat)

    def declare(self, prefix: str | None, uri: str) -> None:
        self.declared.setdefault(prefix or "", uri)
        if prefix:
            self.uri_prefix.setdefault(uri, prefix)

    def name_of(self, tag: str, doc_prefix: str | None) -> str:
        name = self.names.get(tag)
        if name is None:
            if tag.startswith("{"):
                uri, local = tag[1:].split("}", 1)
                prefix = self.uri_prefix.get(uri, doc_prefix)
                name = f"{prefix}:{local}" if prefix else local
            else:
                name = tag
            self.names[tag] = name
        return name

    def is_item(self, element: Any) -> bool:
        tag = element.tag
        if tag.startswith("{"):
            uri, local = tag[1:].split("}", 1)
        else:
            uri, local = "", tag
        if local != self.want_local:
            return False
        if not self.want_prefix:
            return element.prefix is None
        want_uri = self.options.namespaces.get(self.want_prefix) or self.declared.get(self.want_prefix)
        return uri == want_uri

    def value_of(self, element: Any) -> Any:
        children = [c for c in element if isinstance(c.tag, str)]
        if len(children) != len(element) and any(c.tag is etree.Entity for c in element):
            raise FeedReadError(_("The XML uses entity references; refused."), phase="parse")
        text = (element.text or "").strip()
        if not children and not element.attrib:
            return text
        result: dict[str, Any] = {}
        for key, value in element.attrib.items():
            result["@" + self.name_of(key, None)] = value
        if text:
            result[TEXT_KEY] = text
        for child in children:
            key = self.name_of(child.tag, child.prefix)
            value = self.value_of(child)
            if key in result:  # a repeated element: a list (value_of never returns one itself)
                existing = result[key]
                if isinstance(existing, list):
                    existing.append(value)
                else:
                    result[key] = [existing, value]
            else:
                result[key] = value
        return result


def _doctype_check(root: Any) -> None:
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and (dtd.entities() or dtd.elements()):
        raise FeedReadError(
            _(
                "The XML declares a DTD with entities or elements; such documents are refused "
                "(entity expansion and external entities are attack vectors)."
            ),
            phase="parse",
        )
