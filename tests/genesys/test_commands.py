"""Operations commands: killswitch, worker_status, run_job, schedule_supplier_ingests."""

import pytest
from django.core.management import CommandError, call_command

from genesys.jobs.ledger import kind_config_get, workers_enabled
from genesys.models import JobRun
from tests.factories import SupplierFactory
from tests.support.jobs import TEST_KIND, test_kind_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def test_kind():
    test_kind_register()
    kind_config_get(kind=TEST_KIND)


def test_killswitch_on_off_status(capsys):
    call_command("killswitch", "on")
    assert workers_enabled() is False
    assert "Kill switch is ON" in capsys.readouterr().out
    call_command("killswitch", "status")
    assert "ON" in capsys.readouterr().out
    call_command("killswitch", "off")
    assert workers_enabled() is True


def test_worker_status_prints_a_table_of_kinds(capsys):
    JobRun.objects.create(kind=TEST_KIND, key="test_job:1", status="success")
    call_command("worker_status")
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for column in ("kind", "enabled", "running", "queued", "last success", "last failure", "next run"):
        assert column in header
    assert "supplier_ingest" in out and "product_eol_check" in out
    assert "Workers alive: 0" in out


def test_run_job_sync_runs_in_the_foreground_and_prints_its_log(capsys):
    call_command("run_job", TEST_KIND, "--key", "test_job:4", "--sync")
    out = capsys.readouterr().out
    assert "working" in out and "success" in out
    assert JobRun.objects.get(key="test_job:4").status == "success"


def test_run_job_sync_exits_non_zero_on_failure():
    from genesys.jobs.registry import job_spec

    spec = job_spec(TEST_KIND)
    original = spec.params_from_key
    object.__setattr__(spec, "params_from_key", lambda key: {"n": 5, "fail": True})
    try:
        with pytest.raises(CommandError, match="failed"):
            call_command("run_job", TEST_KIND, "--key", "test_job:5", "--sync")
    finally:
        object.__setattr__(spec, "params_from_key", original)


def test_run_job_refuses_a_duplicate_and_unknown_kinds():
    call_command("run_job", TEST_KIND, "--key", "test_job:6")
    with pytest.raises(CommandError, match="already queued or running"):
        call_command("run_job", TEST_KIND, "--key", "test_job:6")
    with pytest.raises(CommandError, match="Unknown job kind"):
        call_command("run_job", "nope")


def test_run_job_names_the_run_that_holds_the_same_key():
    call_command("run_job", TEST_KIND, "--key", "test_job:9")
    call_command("run_job", TEST_KIND, "--key", "test_job:10")
    holder = JobRun.objects.get(key="test_job:10")
    with pytest.raises(CommandError, match=rf"already queued or running \(run {holder.pk}\)\."):
        call_command("run_job", TEST_KIND, "--key", "test_job:10")


def test_run_job_refuses_a_duplicate_whose_holder_has_just_ended(monkeypatch):
    # job_enqueue saw the key taken, but the run ended before the command looked it up.
    monkeypatch.setattr("genesys.management.commands.run_job.job_enqueue", lambda **kwargs: None)
    with pytest.raises(CommandError, match=r"already queued or running\.$"):
        call_command("run_job", TEST_KIND, "--key", "test_job:11")


def test_run_job_takes_a_priority():
    call_command("run_job", TEST_KIND, "--key", "test_job:7", "--priority", "urgent")
    assert JobRun.objects.get(key="test_job:7").priority == "urgent"
    call_command("run_job", TEST_KIND, "--key", "test_job:8")
    assert JobRun.objects.get(key="test_job:8").priority == "normal"


def test_schedule_supplier_ingests_command(capsys):
    SupplierFactory(ingest_enabled=True)
    call_command("schedule_supplier_ingests")
    call_command("schedule_supplier_ingests")
    out = capsys.readouterr().out
    assert "1 ingest job(s) scheduled" in out and "1 supplier(s) already had one" in out
