"""Use-cases of the shop side: reference data, category mapping, auto-import, the sync worker.

Each service takes keyword arguments, returns a small result dataclass of counters (the job ledger
stores it as JSON) and never does network I/O inside a database transaction.
"""
