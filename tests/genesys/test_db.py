"""Database helpers: asynchronous commit is scoped to one transaction."""

import pytest
from django.db import connection, transaction

from genesys.db import commit_without_waiting_for_disk


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_asynchronous_commit_lasts_one_transaction():
    with transaction.atomic():
        commit_without_waiting_for_disk()
        assert synchronous_commit() == "off"
    assert synchronous_commit() == "on"


@pytest.mark.django_db
def test_asynchronous_commit_is_a_no_op_on_sqlite():
    with transaction.atomic():
        commit_without_waiting_for_disk()  # nothing to set, nothing to fail
