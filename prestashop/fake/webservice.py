"""The fake PrestaShop Webservice (``/api/``), reproducing what breaks naive clients.

Follows ``WebserviceRequest::fetch`` (PrestaShop 8): authentication (plain-text 401 without a
key, XML 401 with codes 18/20/21 for a bad one), resource (27 unknown, 26 not granted) and method
checks (23 invalid, e.g. PATCH before 8.0; 101 forbidden for the resource; 25 not granted), then
``filter``/``display``/``sort``/``limit`` without totals, and writes through
``saveEntityFromXml``: PUT sets absent fields to NULL and absent multilingual fields to '', PATCH
touches only what it gets, read-only fields are code 93, bad XML is 500/127, a GET of a missing
id is 404 with an empty body. Product prices and active flags are not per shop here; stock is.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

from lxml import etree

from prestashop.fake import catalog
from prestashop.fake.schema import PRODUCTS, RESOURCES, FieldSpec, ResourceSpec
from prestashop.fake.store import Doc, FakeStore, new_doc, scalar_expr
from prestashop.fake.wire import ALL_METHODS, FakeRequest, FakeResponse, FakeShopSettings
from prestashop.fields import link_rewrite

XLINK_NS = "http://www.w3.org/1999/xlink"
XLINK_HREF = f"{{{XLINK_NS}}}href"
REALM = (
    'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the login. '
    'No password required."'
)
_FILTER = re.compile(r"^(.*)\[(.*)\](.*)$", re.DOTALL)
_RANGE = re.compile(r"^([\d.:\-\s]+),([\d.:\-\s]+)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class WsError(Exception):
    """One PrestaShop error: HTTP status plus (code, message) pairs."""

    def __init__(self, status: int, *errors: tuple[int, str]) -> None:
        super().__init__(errors)
        self.status = status
        self.errors = errors


def _closest(word: str, words: Sequence[str]) -> str:
    def distance(a: str, b: str) -> int:
        previous = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            current = [i]
            for j, cb in enumerate(b, 1):
                current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
            previous = current
        return previous[-1]

    return min(words, key=lambda candidate: distance(word, candidate))


def _did_you_mean(message: str, word: str, words: Sequence[str]) -> str:
    """``setErrorDidYouMean``: the closest name, then every name."""
    every = '", "'.join(words)
    return f'{message}. Did you mean: "{_closest(word, words)}"? The full list is: "{every}"'


def _cdata(element: etree._Element, value: str | None) -> None:
    if value is None:
        element.text = ""  # NULL: an empty element
    elif "]]>" in value:
        element.text = value
    else:
        element.text = etree.CDATA(value)


def _int_prefix(text: str) -> int:
    """PHP's ``(int)`` cast: the leading digits, 0 when there are none."""
    match = re.match(r"^\s*(-?\d+)", text)
    return int(match.group(1)) if match else 0


class _Output:
    """Per-request rendering context: format, languages shown, base URL for xlinks."""

    def __init__(
        self, *, json_output: bool, languages: list[int], single_language: bool, ws_url: str
    ) -> None:
        self.json = json_output
        self.languages = languages
        self.single_language = single_language
        self.ws_url = ws_url

    @property
    def content_type(self) -> str:
        return "application/json" if self.json else "text/xml;charset=utf-8"

    def root(self) -> etree._Element:
        return etree.Element("prestashop", nsmap={"xlink": XLINK_NS})

    def serialize(self, root: etree._Element) -> bytes:
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


class WebserviceApp:
    def __init__(self, store: FakeStore, settings: FakeShopSettings) -> None:
        self.store = store
        self.settings = settings

    # --- entry point -------------------------------------------------------------------------

    def handle(self, request: FakeRequest, *, base_url: str) -> FakeResponse:
        started = time.monotonic()
        authenticated = False
        output = _Output(
            json_output=(request.query.get("output_format") or request.header("Output-Format") or "").upper()
            == "JSON",
            languages=[],
            single_language=False,
            ws_url=base_url.rstrip("/") + "/api/",
        )
        key = request.basic_user
        if key is None:
            key = request.query.get("ws_key")
        if key is None:
            # dispatcher.php answers before WebserviceRequest runs: plain text, no XML.
            return FakeResponse(
                401, b"401 Unauthorized", "text/plain;charset=utf-8", {"WWW-Authenticate": REALM}
            )
        try:
            if not self.settings.webservice_enabled:
                raise WsError(
                    503,
                    (
                        22,
                        "The PrestaShop webservice is disabled. "
                        "Please activate it in the PrestaShop Back Office",
                    ),
                )
            permissions = self._authenticate(key.strip())
            authenticated = True
            response = self._dispatch(request, permissions, output)
        except WsError as exc:
            response = self._error_response(exc, output)
            if exc.status == 401 and not authenticated:
                response.headers["WWW-Authenticate"] = REALM
        response.headers.setdefault("Content-Type", response.content_type)
        response.headers.update(
            {
                "X-Powered-By": "PrestaShop Webservice",
                "Access-Time": str(int(time.time())),
                "Execution-Time": f"{time.monotonic() - started:.3f}",
                "Content-Sha1": hashlib.sha1(response.body, usedforsecurity=False).hexdigest(),
            }
        )
        if authenticated:
            response.headers["PSWS-Version"] = self.settings.version
        return response

    def _authenticate(self, key: str) -> dict[str, frozenset[str]]:
        if not key:
            raise WsError(401, (17, "Authentication key is empty"))
        if len(key) != 32:
            raise WsError(401, (18, "Invalid authentication key format"))
        if key not in self.settings.keys:
            raise WsError(
                401,
                (20, "Authentification key is not active"),
                (21, "No permission for this authentication key"),
            )
        permissions = self.settings.keys[key]
        if permissions is None:
            return {name: ALL_METHODS for name in RESOURCES}
        if not permissions:
            raise WsError(401, (21, "No permission for this authentication key"))
        return {name: frozenset(methods) for name, methods in permissions.items()}

    def _dispatch(
        self, request: FakeRequest, permissions: dict[str, frozenset[str]], output: _Output
    ) -> FakeResponse:
        id_shop = request.query.get("id_shop")
        if id_shop is not None and (not id_shop.isdigit() or int(id_shop) not in self.settings.shop_ids):
            raise WsError(404, (999, "This shop id does not exist"))
        shop = int(id_shop) if id_shop else self.settings.default_shop
        output.languages, output.single_language = self._languages(request.query.get("language"))
        method = request.method
        if method == "POST" and request.query.get("ps_method"):
            method = request.query["ps_method"].upper()
        segments = request.path.split("/api", 1)[1].strip("/").split("/")
        resource = segments[0]
        object_id = segments[1] if len(segments) > 1 else ""
        valid = {"GET", "PUT", "POST", "DELETE", "HEAD"} | (
            {"PATCH"} if self.settings.supports_patch else set()
        )
        if resource == "":
            if method not in valid:
                raise WsError(405, (23, f"Method {method} is not valid"))
            return self._root(permissions, output, head=method == "HEAD")
        if resource not in RESOURCES:
            message = _did_you_mean(
                f'Resource of type "{resource}" does not exists', resource, sorted(RESOURCES)
            )
            raise WsError(400, (27, message))
        if resource not in permissions:
            raise WsError(
                401, (26, f'Resource of type "{resource}" is not allowed with this authentication key')
            )
        spec = RESOURCES[resource]
        if method not in valid:
            raise WsError(405, (23, f"Method {method} is not valid"))
        if method in spec.forbidden_methods:
            raise WsError(405, (101, f"Method {method} is not allowed for the resource {resource}"))
        if method not in permissions[resource]:
            raise WsError(
                405,
                (
                    25,
                    f"Method {method} is not allowed for the resource {resource} "
                    "with this authentication key",
                ),
            )
        if method in ("GET", "HEAD"):
            response = self._get(spec, object_id, request, output, shop)
            if method == "HEAD":
                response.body = b""
            return response
        if method == "DELETE":
            return self._delete(spec, object_id, request)
        return self._write(spec, method, request, output, shop)

    def _languages(self, value: str | None) -> tuple[list[int], bool]:
        every = self.store.select_ids("languages", where=[(f"{scalar_expr('active')} = ?", ["1"])])
        if value is None:
            return every, len(every) == 1
        if value.isdigit():
            wanted = [int(value)]
        elif value.startswith("[") and value.endswith("]") and value[1:-1].replace("|", "").isdigit():
            wanted = [int(part) for part in value[1:-1].split("|")]
        else:
            raise WsError(400, (79, "language value is wrong"))
        chosen = [language for language in every if language in wanted]
        if not chosen:
            raise WsError(400, (81, "language is not available"))
        return chosen, len(chosen) == 1

    # --- rendering ---------------------------------------------------------------------------

    def _error_response(self, exc: WsError, output: _Output) -> FakeResponse:
        if output.json:
            body = json.dumps(
                {"errors": [{"code": code, "message": message} for code, message in exc.errors]}
            )
            return FakeResponse(exc.status, body.encode(), "application/json")
        root = etree.Element("prestashop", nsmap={"xlink": XLINK_NS})
        errors = etree.SubElement(root, "errors")
        for code, message in exc.errors:
            error = etree.SubElement(errors, "error")
            _cdata(etree.SubElement(error, "code"), str(code))
            _cdata(etree.SubElement(error, "message"), message)
        return FakeResponse(exc.status, output.serialize(root))

    def _root(self, permissions: dict[str, frozenset[str]], output: _Output, *, head: bool) -> FakeResponse:
        root = output.root()
        api = etree.SubElement(root, "api", shopName=self.settings.shop_name)
        verbs = (
            ["get", "put", "post"] + (["patch"] if self.settings.supports_patch else []) + ["delete", "head"]
        )
        for name, spec in RESOURCES.items():
            if name not in permissions:
                continue
            attributes = {verb: "true" if verb.upper() in permissions[name] else "false" for verb in verbs}
            node = etree.SubElement(api, name, {XLINK_HREF: output.ws_url + name, **attributes})
            description = etree.SubElement(
                node, "description", {XLINK_HREF: output.ws_url + name, **attributes}
            )
            description.text = spec.description
            for kind in ("blank", "synopsis"):
                etree.SubElement(
                    node, "schema", {XLINK_HREF: f"{output.ws_url}{name}?schema={kind}", "type": kind}
                )
        return FakeResponse(200, b"" if head else output.serialize(root), "text/xml;charset=utf-8")

    def _values(
        self, spec: ResourceSpec, doc: Doc, shop: int, overrides: dict[str, str | None]
    ) -> dict[str, Any]:
        values: dict[str, Any] = dict(doc["f"])
        if spec is PRODUCTS:
            values.update(catalog.product_derived(self.store, doc, id_shop=shop))
        if spec.name == "stock_availables":
            values.setdefault("location", "")
        values.update(overrides)
        return values

    def _associations(self, spec: ResourceSpec, doc: Doc) -> dict[str, list[dict[str, str]]]:
        result = {}
        for association in spec.associations:
            if spec is PRODUCTS and association.name == "stock_availables":
                rows = catalog.stock_rows(self.store, int(doc["f"]["id"]))
                items = [
                    {"id": r["f"]["id"], "id_product_attribute": r["f"]["id_product_attribute"]} for r in rows
                ]
            elif spec.name == "categories" and association.name == "categories":
                ids = self.store.select_ids(
                    "categories", where=[(f"{scalar_expr('id_parent')} = ?", [doc["f"]["id"]])]
                )
                items = [{"id": str(child)} for child in ids]
            else:
                items = list(doc["a"].get(association.name, []))
            result[association.name] = items
        return result

    def _entity_xml(
        self,
        parent: etree._Element,
        spec: ResourceSpec,
        doc: Doc,
        display: str | set[str],
        output: _Output,
        shop: int,
        overrides: dict[str, str | None] | None = None,
    ) -> None:
        node = etree.SubElement(parent, spec.node)
        values = self._values(spec, doc, shop, overrides or {})
        for field_spec in spec.fields:
            if display != "full" and field_spec.name not in display:
                continue
            element = etree.SubElement(node, field_spec.name)
            if field_spec.i18n:
                texts = doc["l"].get(field_spec.name, {})
                for language in output.languages:
                    language_node = etree.SubElement(
                        element,
                        "language",
                        {"id": str(language), XLINK_HREF: f"{output.ws_url}languages/{language}"},
                    )
                    _cdata(language_node, texts.get(str(language), ""))
                continue
            value = values.get(field_spec.name)
            if field_spec.xlink and value not in (None, "", "0"):
                element.set(XLINK_HREF, f"{output.ws_url}{field_spec.xlink}/{value}")
            _cdata(element, value)
        if display == "full":
            associations = etree.SubElement(node, "associations")
            for association in spec.associations:
                holder = etree.SubElement(
                    associations, association.name, nodeType=association.node, api=association.resource
                )
                for item in self._associations(spec, doc)[association.name]:
                    entry = etree.SubElement(
                        holder,
                        association.node,
                        {XLINK_HREF: f"{output.ws_url}{association.resource}/{item['id']}"},
                    )
                    for key in ("id", *association.extra_fields):
                        _cdata(etree.SubElement(entry, key), item.get(key, ""))

    def _entity_json(
        self,
        spec: ResourceSpec,
        doc: Doc,
        display: str | set[str],
        output: _Output,
        shop: int,
        overrides: dict[str, str | None] | None = None,
    ) -> dict[str, Any]:
        values = self._values(spec, doc, shop, overrides or {})
        result: dict[str, Any] = {}
        for field_spec in spec.fields:
            if display != "full" and field_spec.name not in display:
                continue
            if field_spec.name == "id":
                result["id"] = int(values["id"])
            elif field_spec.i18n:
                texts = doc["l"].get(field_spec.name, {})
                if output.single_language:
                    result[field_spec.name] = texts.get(str(output.languages[0]), "")
                else:
                    result[field_spec.name] = [
                        {"id": str(language), "value": texts.get(str(language), "")}
                        for language in output.languages
                    ]
            else:
                value = values.get(field_spec.name)
                result[field_spec.name] = "" if value is None else value
        if display == "full":
            result["associations"] = self._associations(spec, doc)
        return result

    def _render_objects(
        self,
        spec: ResourceSpec,
        docs: list[Doc],
        display: str | set[str] | None,
        output: _Output,
        shop: int,
        *,
        as_list: bool,
        overrides: list[dict[str, str | None]] | None = None,
    ) -> bytes:
        overrides = overrides or [{} for _ in docs]
        if output.json:
            if as_list and not docs:
                return b"[]"  # PS#10172: an empty list is a bare JSON array
            if display is None:
                items = [{"id": int(doc["f"]["id"])} for doc in docs]
            else:
                items = [
                    self._entity_json(spec, d, display, output, shop, o)
                    for d, o in zip(docs, overrides, strict=True)
                ]
            payload = {spec.name: items} if as_list else {spec.node: items[0]}
            return json.dumps(payload, ensure_ascii=False).encode("utf-8")
        root = output.root()
        parent = etree.SubElement(root, spec.name) if as_list else root
        for doc, override in zip(docs, overrides, strict=True):
            if display is None:
                etree.SubElement(
                    parent,
                    spec.node,
                    {"id": doc["f"]["id"], XLINK_HREF: f"{output.ws_url}{spec.name}/{doc['f']['id']}"},
                )
            else:
                self._entity_xml(parent, spec, doc, display, output, shop, override)
        return output.serialize(root)

    # --- GET ---------------------------------------------------------------------------------

    def _display(
        self, spec: ResourceSpec, value: str | None, *, default: str | None
    ) -> str | set[str] | None:
        if value is None:
            return default
        if value in ("full", "minimum"):
            return "full" if value == "full" else None
        available = ", ".join(f.name for f in spec.fields)
        match = re.match(r"^\[(.*)\]$", value, re.DOTALL)
        if not match:
            raise WsError(
                400,
                (36, "The 'display' syntax is wrong. You can set 'full' or '[field_1,field_2,field_3,...]'. "
                     f"These are available: {available}"),
            )  # fmt: skip
        names = set()
        for part in re.split(r",(?![^\[]*\])", match.group(1)):
            name = part.split("[", 1)[0].strip()
            if spec.field(name) is None:
                raise WsError(
                    400,
                    (35, f'Unable to display this field "{name}". However, these are available: {available}'),
                )
            names.add(name)
        return names

    def _filter_clause(self, spec: ResourceSpec, name: str, value: str) -> tuple[str, list[Any]] | None:
        field_spec = spec.field(name)
        if (
            field_spec is None
            or field_spec.read_only
            or (spec is PRODUCTS and name == "position_in_category")
        ):
            filters = [f.name for f in spec.scalar_fields if not f.read_only]
            raise WsError(400, (32, _did_you_mean("This filter does not exist", name, filters)))
        if value == "":
            raise WsError(400, (33, f'The filter "{name}" is malformed.'))

        def wrap(condition: str, params: list[Any]) -> tuple[str, list[Any]]:
            if field_spec.i18n:
                inner = condition.replace("{x}", "j.value")
                # name is a schema field name, never request input
                return f"EXISTS (SELECT 1 FROM json_each(doc, '$.l.{name}') AS j WHERE {inner})", params  # noqa: S608
            return condition.replace("{x}", scalar_expr(name)), params

        def exact(values: list[str]) -> tuple[str, list[Any]]:
            # MySQL compares text case-insensitively; numbers compare as they are (and use the index).
            if field_spec.numeric and not field_spec.i18n:
                marks = ", ".join("?" for _ in values)
                return wrap(f"{{x}} IN ({marks})", [v.strip() for v in values])
            marks = ", ".join("lower(?)" for _ in values)
            return wrap(f"lower({{x}}) IN ({marks})", list(values))

        match = _FILTER.match(value)
        if not match:
            return exact([value])
        before, inner, after = match.groups()
        if before == "%" or after == "%":
            return wrap("{x} LIKE ?", [before + inner + after])
        if before == "" and after == "":
            if inner.find("|") > 0:
                return exact(inner.split("|"))
            bounds = _RANGE.match(inner)
            if bounds:
                low, high = sorted(
                    (bounds.group(1).strip(), bounds.group(2).strip()),
                    key=lambda v: float(v) if _NUMBER.match(v) else 0,
                )
                return wrap("CAST({x} AS REAL) BETWEEN ? AND ?", [low, high])
            return exact([inner])
        operators = {">": ">", "<": "<", "!": "!="}
        if before in operators:
            if before != "!" and _NUMBER.match(inner):
                return wrap(f"CAST({{x}} AS REAL) {operators[before]} ?", [float(inner)])
            return wrap(f"{{x}} {operators[before]} ?", [inner])
        return None  # PrestaShop silently ignores other shapes

    def _order(self, spec: ResourceSpec, value: str | None, output: _Output) -> list[str]:
        if value is None:
            return ["id ASC"]
        match = re.match(r"^\[(.*)\]$", value)
        parts = match.group(1).split(",") if match else [value]
        order = []
        for part in parts:
            position = part.rfind("_")
            name, direction = part[:position], part[position + 1 :].upper()
            if position < 0 or direction not in ("ASC", "DESC"):
                raise WsError(
                    400,
                    (
                        37,
                        'The "sort" value has to be formed as this example: "field_ASC" or '
                        "'[field_1_DESC,field_2_ASC,field_3_ASC,...]' "
                        '("field" has to be an available field)',
                    ),
                )
            field_spec = spec.field(name)
            if field_spec is None or field_spec.read_only:
                available = ", ".join(f.name for f in spec.scalar_fields)
                raise WsError(
                    400, (38, f"Unable to filter by this field. However, these are available: {available}")
                )
            if name == "id":
                order.append(f"id {direction}")
            elif field_spec.i18n:
                language = output.languages[0] if output.languages else 1
                order.append(f"json_extract(doc, '$.l.{name}.\"{language}\"') COLLATE NOCASE {direction}")
            elif field_spec.numeric:
                order.append(f"CAST({scalar_expr(name)} AS REAL) {direction}")
            else:
                order.append(f"{scalar_expr(name)} COLLATE NOCASE {direction}")
        return [*order, "id ASC"]

    @staticmethod
    def _limit(value: str | None) -> tuple[int | None, int]:
        if value is None:
            return None, 0
        parts = value.split(",")
        if len(parts) > 2:
            raise WsError(400, (39, 'The "limit" value has to be formed as this example: "5,25" or "10"'))
        if len(parts) == 1:
            return _int_prefix(parts[0]), 0
        return _int_prefix(parts[1]), _int_prefix(parts[0])

    def _get(
        self, spec: ResourceSpec, object_id: str, request: FakeRequest, output: _Output, shop: int
    ) -> FakeResponse:
        query = request.query
        if object_id:
            display = self._display(spec, query.get("display"), default="full")
            doc = self.store.get(spec.name, _int_prefix(object_id))
            if doc is None:
                return FakeResponse(
                    404, b"", output.content_type
                )  # no body at all (getFilteredObjectDetails)
            body = self._render_objects(spec, [doc], display or "full", output, shop, as_list=False)
            return FakeResponse(200, body, output.content_type)
        if "schema" in query:
            if query["schema"] not in ("blank", "synopsis"):
                raise WsError(400, (28, "Please select a schema of type 'synopsis' or 'blank'"))
            blank = new_doc()
            blank["f"] = {f.name: "" for f in spec.scalar_fields if not f.read_only}
            blank["l"] = {f.name: {} for f in spec.i18n_fields}
            writable = {f.name for f in spec.fields if not f.read_only}
            root = output.root()
            self._entity_xml(root, spec, blank, writable, output, shop)
            return FakeResponse(200, output.serialize(root), output.content_type)
        where = []
        for key, value in query.items():
            if key.startswith("filter[") and key.endswith("]"):
                clause = self._filter_clause(spec, key[7:-1], value)
                if clause is not None:
                    where.append(clause)
        display = self._display(spec, query.get("display"), default=None)
        order = self._order(spec, query.get("sort"), output)
        limit, offset = self._limit(query.get("limit"))
        ids = self.store.select_ids(spec.name, where=where, order=order, limit=limit, offset=offset)
        docs = self.store.get_many(spec.name, ids)
        return FakeResponse(
            200, self._render_objects(spec, docs, display, output, shop, as_list=True), output.content_type
        )

    # --- DELETE ------------------------------------------------------------------------------

    def _delete(self, spec: ResourceSpec, object_id: str, request: FakeRequest) -> FakeResponse:
        if object_id:
            ids = [_int_prefix(object_id)]
        else:
            match = re.match(r"^\[(.*)\]$", request.query.get("id", ""))
            ids = [_int_prefix(part) for part in match.group(1).split(",")] if match else []
        with self.store.transaction():
            missing = [str(i) for i in ids if self.store.get(spec.name, i) is None]
            if missing or not ids:
                raise WsError(404, (87, f"Id(s) not exists: {', '.join(missing)}"))
            for i in ids:
                self.store.delete(spec.name, i)
                if spec is PRODUCTS:
                    catalog.delete_stock_rows(self.store, i)
        return FakeResponse(200, b"")

    # --- POST, PUT, PATCH --------------------------------------------------------------------

    def _write(
        self, spec: ResourceSpec, method: str, request: FakeRequest, output: _Output, shop: int
    ) -> FakeResponse:
        raw = request.body
        if raw.startswith(b"xml="):
            raw = unquote_to_bytes(raw[4:].replace(b"+", b" "))
        parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
        try:
            root = etree.fromstring(raw, parser)
        except etree.XMLSyntaxError:
            text = raw.decode("utf-8", errors="replace")
            raise WsError(
                500,
                (
                    127,
                    "XML error : String could not be parsed as XML\n"
                    f"XML length : {len(raw)}\nOriginal XML : {text}",
                ),
            ) from None
        entities = [child for child in root if isinstance(child.tag, str)]
        ids = [(entity.findtext("id") or "") for entity in entities if (entity.findtext("id") or "") != ""]
        if method in ("PUT", "PATCH"):
            if len(set(ids)) != len(ids):
                raise WsError(400, (89, "id is duplicate in request"))
            if len(ids) != len(entities):
                raise WsError(400, (90, "id is required when modifying a resource"))
        elif ids:
            raise WsError(400, (91, "id is forbidden when adding a new resource"))
        saved: list[Doc] = []
        echoes: list[dict[str, str | None]] = []
        # No rollback on error, like PrestaShop: entities saved before the failing one stay saved.
        with self.store.lock:
            for entity in entities:
                doc, echo = self._write_entity(spec, method, entity, shop)
                saved.append(doc)
                echoes.append(echo)
        body = self._render_objects(spec, saved, "full", output, shop, as_list=False, overrides=echoes)
        return FakeResponse(201 if method == "POST" else 200, body, output.content_type)

    def _write_scalar(
        self,
        doc: Doc,
        echo: dict[str, str | None],
        spec: ResourceSpec,
        field_spec: Any,
        element: etree._Element | None,
        method: str,
    ) -> None:
        """One plain field of a written entity, as PrestaShop checks it: read-only fields refused,
        required ones demanded, a product's position checked against its category."""
        name = field_spec.name
        if element is not None:
            if field_spec.read_only:
                raise WsError(
                    400,
                    (93, f'parameter "{name}" not writable. Please remove this attribute of this XML'),
                )
            value = element.text or ""
            if spec is PRODUCTS and name == "position_in_category":
                self._check_position(doc, value, method)
                return
            doc["f"][name] = value
            echo[name] = value
        elif field_spec.required:
            raise WsError(400, (41, f'parameter "{name}" required'))
        elif not (spec is PRODUCTS and name == "position_in_category"):
            doc["f"][name] = None

    def _write_entity(
        self, spec: ResourceSpec, method: str, entity: etree._Element, shop: int
    ) -> tuple[Doc, dict[str, str | None]]:
        given = {child.tag: child for child in entity if isinstance(child.tag, str)}
        if method == "POST":
            doc = new_doc()
        else:
            found = self.store.get(spec.name, _int_prefix(entity.findtext("id") or ""))
            if found is None:
                raise WsError(404, (92, "Invalid ID"))
            doc = found
        echo: dict[str, str | None] = {}
        all_languages = self.store.select_ids("languages")
        for field_spec in spec.fields:
            name = field_spec.name
            if name == "id" or (method == "PATCH" and name not in given):
                continue
            if field_spec.i18n:
                self._write_texts(doc, field_spec, given.get(name), all_languages)
                continue
            self._write_scalar(doc, echo, spec, field_spec, given.get(name), method)
        if spec is PRODUCTS and method == "POST":
            self._link_rewrite_modifier(doc)
        self._validate(spec, doc)
        for field_spec in spec.scalar_fields:
            value = doc["f"].get(field_spec.name)
            if value and field_spec.kind in ("price", "float"):
                doc["f"][field_spec.name] = catalog.six_places(value)
        stamp = catalog.now()
        if "date_upd" in {f.name for f in spec.fields}:
            doc["f"]["date_upd"] = stamp
            if method == "POST" and not doc["f"].get("date_add"):
                doc["f"]["date_add"] = stamp
        with self.store.transaction():
            if method == "POST":
                object_id = self.store.insert(spec.name, doc)
                if spec is PRODUCTS:
                    catalog.create_stock_rows(self.store, object_id, self.settings.shop_ids)
            else:
                object_id = int(doc["f"]["id"])
                self.store.save(spec.name, object_id, doc)
        self._write_associations(spec, doc, given.get("associations"))
        return doc, echo

    @staticmethod
    def _write_texts(
        doc: Doc, field_spec: FieldSpec, node: etree._Element | None, languages: list[int]
    ) -> None:
        languages_given = node.findall("language") if node is not None else []
        if languages_given:
            texts = doc["l"].setdefault(field_spec.name, {})
            for language in languages_given:
                texts[str(_int_prefix(language.get("id", "0")))] = language.text or ""
        else:
            # A plain string (or nothing) replaces the per-language array: every language gets it.
            text = (node.text or "") if node is not None else ""
            doc["l"][field_spec.name] = {str(language): text for language in languages}

    def _check_position(self, doc: Doc, value: str, method: str) -> None:
        """``setWsPositionInCategory`` fails for a position it cannot apply (PS#26761, PS#36077)."""
        if value == "":
            return
        current = catalog.position_in_category(self.store, doc) if method != "POST" else "0"
        if not value.isdigit():
            raise WsError(500, (134, "position_in_category must be a non-negative integer"))
        if value != current:
            raise WsError(500, (135, "Error occurred while setting the position_in_category value"))

    @staticmethod
    def _link_rewrite_modifier(doc: Doc) -> None:
        """``modifierWsLinkRewrite`` (POST only): build it from the name, or clean an invalid one."""
        names = doc["l"].get("name", {})
        rewrites = doc["l"].setdefault("link_rewrite", {})
        for language, name in names.items():
            current = rewrites.get(language, "")
            if not current and name:
                rewrites[language] = link_rewrite(name)
            elif current and not PRODUCTS.require("link_rewrite").is_valid(current):
                rewrites[language] = link_rewrite(current)

    @staticmethod
    def _validate(spec: ResourceSpec, doc: Doc) -> None:
        for field_spec in spec.i18n_fields:
            for text in doc["l"].get(field_spec.name, {}).values():
                if not field_spec.is_valid(text):
                    raise WsError(
                        400,
                        (
                            84,
                            f'Validation error: "Property {spec.class_name}->{field_spec.name} is not valid"',
                        ),
                    )
        for field_spec in spec.scalar_fields:
            value = doc["f"].get(field_spec.name)
            if field_spec.read_only or field_spec.name == "id" or value is None or field_spec.is_valid(value):
                continue
            if field_spec.max_length is not None and len(value) > field_spec.max_length:
                message = (
                    f"Property {spec.class_name}->{field_spec.name} length ({len(value)}) "
                    f"must be lower than {field_spec.max_length}"
                )
            else:
                message = f"Property {spec.class_name}->{field_spec.name} is not valid"
            raise WsError(400, (85, f'Validation error: "{message}"'))

    def _write_associations(self, spec: ResourceSpec, doc: Doc, node: etree._Element | None) -> None:
        """Associations run after the save, so a failure here leaves the object saved (as in PS)."""
        if node is None:
            return
        for holder in node:
            if not isinstance(holder.tag, str):
                continue
            association = next((a for a in spec.associations if a.name == holder.tag), None)
            if association is None:
                raise WsError(400, (86, f'The association "{holder.tag}" does not exists'))
            if not association.writable:
                continue
            ids = [(item.findtext("id") or "").strip() for item in holder if isinstance(item.tag, str)]
            if any(not i.isdigit() or not catalog.category_exists(self.store, int(i)) for i in ids):
                raise WsError(500, (85, f"Error occurred while setting the {holder.tag} value"))
            doc["a"][association.name] = [{"id": i} for i in dict.fromkeys(ids)]
            self.store.save(spec.name, int(doc["f"]["id"]), doc)
