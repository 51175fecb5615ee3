"""The kill switch as one page: its state, who changed it and when, one button to flip it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from genesys.jobs.ledger import kill_switch_set, workers_enabled
from genesys.models import KillSwitchChange

pytestmark = pytest.mark.django_db
PAGE = "admin:genesys_workerglobalconfig_changelist"


def test_an_operator_stops_every_job_and_the_page_says_who_and_when(role_client):
    client = role_client("operator")
    page = client.get(reverse(PAGE)).content.decode()
    assert "Kill switch is OFF: jobs run." in page and 'value="off"' in page
    response = client.post(reverse(PAGE), {"workers_enabled": "off", "note": "shop migration"})
    assert response.status_code == 302 and not workers_enabled()
    page = client.get(reverse(PAGE)).content.decode()
    assert "Kill switch is ON" in page and "operator-user" in page and "shop migration" in page
    client.post(reverse(PAGE), {"workers_enabled": "on"})
    assert workers_enabled()
    history = list(
        KillSwitchChange.objects.order_by("changed_at", "id").values_list("workers_enabled", "changed_by")
    )
    assert history == [(False, "operator-user"), (True, "operator-user")]


def test_a_viewer_sees_the_switch_but_cannot_flip_it(role_client):
    client = role_client("viewer")
    page = client.get(reverse(PAGE)).content.decode()
    assert "Kill switch is OFF" in page and 'value="off"' not in page
    assert client.post(reverse(PAGE), {"workers_enabled": "off"}).status_code == 403
    assert workers_enabled()


def test_the_command_and_the_page_share_one_history_and_a_repeat_records_nothing():
    call_command("killswitch", "on")
    kill_switch_set(enabled=False, by="ana")  # already off: nothing new
    call_command("killswitch", "off")
    assert list(KillSwitchChange.objects.order_by("id").values_list("workers_enabled", "changed_by")) == [
        (False, "command"),
        (True, "command"),
    ]
