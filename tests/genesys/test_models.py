import pytest
from django.db import IntegrityError, transaction

from genesys.models import JobKindConfig, WorkerGlobalConfig

pytestmark = pytest.mark.django_db


def test_global_worker_config_is_a_single_row():
    WorkerGlobalConfig.objects.create(id=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkerGlobalConfig.objects.create(id=2)


def test_job_kind_configuration_is_unique_and_sane():
    JobKindConfig.objects.create(kind="supplier_ingest")
    with pytest.raises(IntegrityError), transaction.atomic():
        JobKindConfig.objects.create(kind="supplier_ingest")
    with pytest.raises(IntegrityError), transaction.atomic():
        JobKindConfig.objects.create(kind="catalog_sync", max_concurrency=0)
