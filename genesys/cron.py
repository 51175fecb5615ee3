"""Configuration for ``manage.py rqcron genesys/cron.py`` (exactly one cron process runs).

The cron process only enqueues one small job, the periodic tick; what is due, and when, is read
from the job kinds' configuration in the database at each tick (see genesys.jobs.scheduler).
"""

from django.conf import settings
from rq import cron
from rq.queue import Queue
from rq.serializers import JSONSerializer

from genesys.jobs.scheduler import periodic_tick


class JSONQueue(Queue):
    """RQ's CronJob enqueues through a plain ``Queue`` (pickle); our workers read JSON."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("serializer", JSONSerializer)
        super().__init__(*args, **kwargs)


# rq.cron names its Queue class directly and takes no other; replacing it is the way in.
cron.Queue = JSONQueue  # type: ignore[misc]  # deliberately reassigns the class rq.cron uses

cron.register(
    periodic_tick,
    queue_name="maintenance",
    interval=settings.JOBS_TICK_SECONDS,
    job_timeout=120,
    result_ttl=60,
    failure_ttl=86400,
    name="genesys-periodic-tick",
)
