"""The mapper editor: the feed's sources from a sample, a source picked per field, transforms with
their settings, the rows previewed with the profile the form describes, saved like the JSON."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from procurement.models import FeedMapper
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory
from tests.support.feeds import CSV_PROFILE

pytestmark = pytest.mark.django_db

HEADER = "Referencia;EAN;Marca;RefFab;Designacao;Preco;PVP;Stock\n"
LINES = [
    "A1;5600000010075;Samsung;SM-1;Galaxy A55;342,16;399,00;Sim",
    "A2;5600000010143;LG;LG-2;OLED 55;1005,50;1199,00;3",
]
PROFILE = {
    "fields": {
        "sku": "Referencia",
        "gtin": "EAN",
        "brand": "Marca",
        "partnumber": "RefFab",
        "name": "Designacao",
        "price": {"source": "Preco", "transforms": [{"type": "decimal", "decimal_separator": ","}]},
        "stock": {"source": "Stock", "transforms": [{"type": "stock", "available_quantity": 5}]},
    },
    "meta": "none",
}


@pytest.fixture
def feed(feeds_root):
    (feeds_root / "tarifa.csv").write_text(HEADER + "\n".join(LINES) + "\n", encoding="utf-8")
    feed = SupplierFeedFactory(
        supplier=SupplierFactory(name="Distrilusa"),
        name="Tarifa",
        source_url="file:tarifa.csv",
        format="csv",
        format_options={"delimiter": ";"},
    )
    FeedMapperFactory(feed=feed, profile=PROFILE)
    return feed


def editor_url(feed):
    return reverse("admin:procurement_supplierfeed_mapper", args=[feed.pk])


def form_of(response) -> dict[str, list[str]]:
    """The editor's form as the browser would post it back (every input, in order)."""
    state = response.context["editor"]
    data: dict[str, list[str]] = {
        "sample_source": list(state.sources),
        "sample_example": [state.examples.get(s, "") for s in state.sources],
        "meta_mode": [state.meta_mode],
        "meta_sources": [state.meta_sources],
        "profile_json": [state.profile_json],
    }
    for row in state.rows:
        data[f"f.{row.name}.source"] = [*row.sources, ""]
        data[f"f.{row.name}.constant"] = [row.constant]
        data[f"f.{row.name}.inherit"] = [row.inherit]
        for transform in row.transforms:
            prefix = f"f.{row.name}.t.{transform.index}."
            data[prefix + "type"] = [transform.type]
            for setting, value, _required in transform.settings:
                data[prefix + setting] = [value]
    return data


def test_the_editor_lists_the_columns_of_the_feeds_sample(role_client, feed):
    response = role_client("integrator").get(editor_url(feed))
    assert response.status_code == 200
    state = response.context["editor"]
    assert state.sources == ["Referencia", "EAN", "Marca", "RefFab", "Designacao", "Preco", "PVP", "Stock"]
    page = response.content.decode()
    assert '<option value="PVP">' in page
    assert [str(row.price) for row in state.preview.rows] == ["342.1600", "1005.5000"]


def test_changing_a_source_updates_the_preview_rows(role_client, feed):
    client = role_client("integrator")
    data = form_of(client.get(editor_url(feed)))
    data["f.price.source"] = ["PVP", ""]
    response = client.post(editor_url(feed), data, headers={"X-Mapper-Editor": "fragment"})
    assert response.status_code == 200
    assert [str(row.price) for row in response.context["editor"].preview.rows] == ["399.0000", "1199.0000"]
    assert "<html" not in response.content.decode()  # the form only: the page swaps it in
    assert "1199.0000" in response.content.decode()
    assert FeedMapper.objects.get(feed=feed).profile == PROFILE  # nothing saved


def test_a_transform_is_added_from_the_registry_and_removed(role_client, feed):
    client = role_client("integrator")
    data = form_of(client.get(editor_url(feed)))
    data["f.name.add"] = ["upper"]
    response = client.post(editor_url(feed), {**data, "action": "add:name"})
    assert response.context["editor"].profile["fields"]["name"] == {
        "source": "Designacao",
        "transforms": [{"type": "upper"}],
    }
    assert [row.name for row in response.context["editor"].preview.rows] == ["GALAXY A55", "OLED 55"]
    data = form_of(response)
    response = client.post(editor_url(feed), {**data, "action": "remove:name:0"})
    assert response.context["editor"].profile["fields"]["name"] == "Designacao"


def test_invalid_transform_settings_are_refused_with_the_messages_of_the_json_path(role_client, feed):
    client = role_client("integrator")
    data = form_of(client.get(editor_url(feed)))
    data["f.price.t.0.decimal_separator"] = [";"]
    response = client.post(editor_url(feed), {**data, "action": "save"})
    state = response.context["editor"]
    assert state.problems == ['fields.price.transforms[0].decimal_separator: must be "." or ","']
    assert state.preview is None
    assert FeedMapper.objects.get(feed=feed).profile == PROFILE

    # The mapper's JSON field says exactly the same about the same profile.
    json_form = {"feed": feed.pk, "name": "v2", "profile": json.dumps(state.profile), "is_active": ""}
    admin = client.post(reverse("admin:procurement_feedmapper_add"), json_form)
    assert admin.context["adminform"].form.errors["profile"] == state.problems


def test_the_json_text_is_applied_and_validated_by_the_same_code(role_client, feed):
    client = role_client("integrator")
    data = form_of(client.get(editor_url(feed)))
    profile = {**PROFILE, "fields": {**PROFILE["fields"], "stock": {"source": "Stock", "transforms": []}}}
    response = client.post(editor_url(feed), {**data, "profile_json": json.dumps(profile), "action": "json"})
    state = response.context["editor"]
    assert state.problems == []
    assert [r.reason for r in state.preview.rejections] == [
        'stock: "Sim" is not a whole number (a stock transform reads words, bounds and ranges)'
    ]
    response = client.post(editor_url(feed), {**data, "profile_json": "{", "action": "json"})
    assert response.context["editor"].problems[0].startswith("profile: not valid JSON")


def test_saving_stores_the_profile_in_the_active_mapper(role_client, feed):
    client = role_client("integrator")
    data = form_of(client.get(editor_url(feed)))
    data["f.price.source"] = ["PVP", ""]
    response = client.post(editor_url(feed), {**data, "action": "save"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:procurement_supplierfeed_change", args=[feed.pk])
    mapper = FeedMapper.objects.get(feed=feed)
    assert mapper.profile["fields"]["price"]["source"] == "PVP"
    assert mapper.profile["fields"]["stock"] == PROFILE["fields"]["stock"]


def test_a_feed_without_a_mapper_gets_one_on_save(role_client, feed):
    FeedMapper.objects.all().delete()
    client = role_client("integrator")
    response = client.get(editor_url(feed))
    assert response.context["editor"].problems  # an empty profile: sku, price, stock required
    data = form_of(response)
    data.update({"f.sku.source": ["Referencia"], "f.gtin.source": ["EAN"], "f.price.source": ["Preco"]})
    data.update({"f.stock.source": ["Stock"], "f.price.add": ["decimal"]})
    response = client.post(editor_url(feed), {**data, "action": "add:price"})
    data = form_of(response)
    data["f.price.t.0.decimal_separator"] = [","]
    data["f.stock.add"] = ["stock"]
    data = form_of(client.post(editor_url(feed), {**data, "action": "add:stock"}))
    assert client.post(editor_url(feed), {**data, "action": "save"}).status_code == 302
    assert FeedMapper.objects.get(feed=feed, is_active=True).profile["fields"]["price"] == {
        "source": "Preco",
        "transforms": [{"type": "decimal", "decimal_separator": ","}],
    }


@pytest.mark.parametrize(("role", "allowed"), [("viewer", False), ("operator", False), ("integrator", True)])
def test_only_who_may_change_mappers_opens_the_editor(role_client, feed, role, allowed):
    client = role_client(role)
    assert client.get(editor_url(feed)).status_code == (200 if allowed else 403)
    change = client.get(reverse("admin:procurement_supplierfeed_change", args=[feed.pk]))
    assert (editor_url(feed) in change.content.decode()) is allowed
    data = {"f.sku.source": "x", "action": "save"}
    assert client.post(editor_url(feed), data).status_code == (200 if allowed else 403)
    assert FeedMapper.objects.get(feed=feed).profile == PROFILE


def test_the_sample_profile_is_what_the_json_field_accepts():
    from procurement.feeds.preview import _SAMPLE_PROFILE
    from procurement.feeds.profile import profile_problems

    assert profile_problems(_SAMPLE_PROFILE) == []
    assert profile_problems(CSV_PROFILE) == []
