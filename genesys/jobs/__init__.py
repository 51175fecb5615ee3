"""Background jobs on RQ with a ledger in the database.

* ``registry``  — job kinds: their function, queue, key and default configuration.
* ``enqueue``   — ``job_enqueue`` / ``job_cancel``: one active job per key, enqueued after commit.
* ``runner``    — the RQ entry point: kill switch, enabled flag, max concurrency, the run record,
                  heartbeats, retries with backoff, the next scheduled run.
* ``scheduler`` — the periodic tick run by ``rqcron``: due periodic kinds, supplier schedules,
                  the watchdog.
* ``watchdog``  — runs whose worker vanished or that run too long become ``abandoned``.
* ``ledger``    — the run record, its log lines, per-kind configuration and the kill switch.
"""
