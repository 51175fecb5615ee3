"""GenesysWorker: registration restored after Redis forgets it, dead schedulers taken over."""

import django_rq
import pytest
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer
from rq.worker import Worker

from genesys.jobs.scheduling import SCHEDULER_LOCK_TTL
from genesys.worker import GenesysScheduler, GenesysWorker, PatientRetry


@pytest.fixture
def worker(settings):
    queues = [django_rq.get_queue(name) for name in settings.GENESYS_QUEUES]
    worker = GenesysWorker(queues, connection=queues[0].connection, name="w1", serializer=JSONSerializer)
    worker.register_birth()
    yield worker
    worker.register_death()


def test_redis_calls_of_the_worker_retry_without_giving_up(worker):
    retry = worker.connection.connection_pool.connection_kwargs["retry"]
    assert isinstance(retry, PatientRetry) and retry.get_retries() < 0


def test_a_worker_redis_forgot_registers_again_at_its_next_heartbeat(worker, redis_conn):
    assert worker.registration_ensure() is False
    redis_conn.flushdb()  # a Redis restart without persistence
    assert Worker.all(connection=redis_conn) == []
    worker.heartbeat()
    [listed] = Worker.all(connection=redis_conn)
    assert listed.name == "w1" and listed.birth_date is not None


def test_a_scheduler_takes_over_the_locks_of_one_nobody_refreshes(redis_conn, settings):
    settings.JOBS_SCHEDULER_STALE_SECONDS = 10
    for name in settings.GENESYS_QUEUES:
        redis_conn.set(RQScheduler.get_locking_key(name), "dead", ex=SCHEDULER_LOCK_TTL - 11)
    fresh = RQScheduler.get_locking_key("ingest")
    redis_conn.set(fresh, "alive", ex=SCHEDULER_LOCK_TTL)
    scheduler = GenesysScheduler(settings.GENESYS_QUEUES, connection=django_rq.get_connection("default"))
    assert scheduler.acquire_locks() == {"catalog", "sync", "maintenance", "notify"}
    assert redis_conn.get(fresh) == b"alive"
    assert scheduler.should_reacquire_locks is False  # it just tried
    scheduler.release_locks()


def test_an_idle_worker_wakes_up_often_enough_to_notice_a_dead_scheduler(worker, settings):
    assert worker.dequeue_timeout <= settings.JOBS_SCHEDULER_CHECK_SECONDS
    assert worker.connection_timeout > 400  # long commands keep RQ's long socket timeout
