import pytest
from django.db import IntegrityError, transaction

from genesys.models import JobKindConfig, WorkerGlobalConfig

pytestmark = pytest.mark.django_db


def test_global_worker_config_is_a_single_row():
    WorkerGlobalConfig.objects.create(id=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkerGlobalConfig.objects.create(id=2)


def test_every_job_kind_has_its_configuration_after_migrate():
    from genesys.models import JobKind

    assert set(JobKind.values) <= set(JobKindConfig.objects.values_list("kind", flat=True))


def test_job_kind_configuration_is_unique_and_sane():
    with pytest.raises(IntegrityError), transaction.atomic():
        JobKindConfig.objects.create(kind="supplier_ingest")
    with pytest.raises(IntegrityError), transaction.atomic():
        JobKindConfig.objects.filter(kind="maintenance").update(max_concurrency=0)
