"""Specific permissions on the operator actions the issue found open: the kill switch, django-rq."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_rq.queues import get_queue_by_index
from rq import Queue
from rq.job import Job

from genesys.models import WorkerGlobalConfig
from genesys.roles import ROLES
from tests.factories import WorkerGlobalConfigFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:genesys_workerglobalconfig_add")


def test_a_staff_user_without_permissions_cannot_turn_the_kill_switch_on(role_client):
    client = role_client("none")
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, {"workers_enabled": ""}).status_code == 403
    assert not WorkerGlobalConfig.objects.exists()


def test_the_model_permission_alone_does_not_make_a_kill_switch(role_user):
    from django.contrib.auth.models import Permission

    user = role_user("none")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_workerglobalconfig", "change_workerglobalconfig"])
    )
    client = Client()
    client.force_login(user)
    assert client.post(ADD, {"workers_enabled": ""}).status_code == 403
    assert not WorkerGlobalConfig.objects.exists()


def test_a_viewer_sees_the_switch_but_cannot_flip_it(role_client):
    WorkerGlobalConfigFactory(workers_enabled=True)
    client = role_client("viewer")
    change = reverse("admin:genesys_workerglobalconfig_change", args=[1])
    assert client.get(change).status_code == 200
    assert client.post(change, {"workers_enabled": ""}).status_code == 403
    assert WorkerGlobalConfig.objects.get().workers_enabled


def test_an_operator_can_stop_every_job(role_client):
    client = role_client("operator")
    response = client.post(ADD, {"workers_enabled": ""})
    assert response.status_code == 302
    switch = WorkerGlobalConfig.objects.get()
    assert not switch.workers_enabled
    assert switch.updated_by == "operator-user"


def _job():
    rq_queue = get_queue_by_index(0)
    queue = Queue(rq_queue.name, connection=rq_queue.connection, serializer=rq_queue.serializer)
    return queue.enqueue("genesys.jobs.runner.job_execute", 1), queue


def test_a_viewer_reads_the_django_rq_dashboard_but_cannot_delete_jobs(role_client):
    job, queue = _job()
    client = role_client("viewer")
    assert client.get(reverse("admin:django_rq_home")).status_code == 200
    assert client.get(reverse("admin:django_rq_job_detail", args=[0, job.id])).status_code == 200
    delete = reverse("admin:django_rq_delete_job", args=[0, job.id])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Job.exists(job.id, connection=queue.connection)


def test_an_operator_deletes_a_job_from_the_django_rq_dashboard(role_client):
    job, queue = _job()
    client = role_client("operator")
    response = client.post(reverse("admin:django_rq_delete_job", args=[0, job.id]), {"post": "yes"})
    assert response.status_code == 302
    assert not Job.exists(job.id, connection=queue.connection)


def test_staff_without_the_queue_permission_see_no_django_rq(role_client):
    client = role_client("none")
    assert client.get(reverse("admin:django_rq_home")).status_code == 403
    assert client.get(reverse("admin:django_rq_dashboard_changelist")).status_code == 403
    assert client.get(reverse("admin:django_rq_home_json")).status_code == 403


def test_the_rq_scheduler_page_is_gone_instead_of_failing(role_client):
    """It 500'd: it needs the rq-scheduler package; Genesys uses RQ's own scheduler."""
    response = role_client("superuser").get("/admin/django_rq/dashboard/schedulers/0/")
    assert response.status_code == 404


def test_the_stats_api_takes_its_token_from_the_header_never_from_the_url(settings, client):
    settings.RQ_API_TOKEN = "monitoring_token_0123456789"
    assert client.get("/admin/django_rq/dashboard/stats.json/monitoring_token_0123456789/").status_code == 401
    response = client.get(
        "/admin/django_rq/dashboard/stats.json",
        headers={"Authorization": "Bearer monitoring_token_0123456789"},
    )
    assert response.status_code == 200
    assert "queues" in response.json()


def test_roles_sync_gives_every_group_back_exactly_its_permissions():
    from django.contrib.auth.models import Group, Permission

    operator = Group.objects.get(name="operator")
    operator.permissions.add(Permission.objects.get(codename="delete_supplier"))
    call_command("roles_sync", stdout=open("/dev/null", "w"))
    call_command("roles_sync", stdout=open("/dev/null", "w"))
    assert not operator.permissions.filter(codename="delete_supplier").exists()
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)
