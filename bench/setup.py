"""Shared set-up for the benchmarks: a throw-away database, migrated, and timing helpers.

Benchmarks never touch your working database: by default they create (and drop at the end) a
PostgreSQL database ``genesys_bench_<pid>`` on 127.0.0.1, or use ``--sqlite`` for a temporary
SQLite file. ``--database-url`` points them elsewhere (the database is emptied first).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sqlite", action="store_true", help="benchmark SQLite instead of PostgreSQL")
    parser.add_argument(
        "--pg-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server to create the throw-away database on",
    )
    return parser


@contextlib.contextmanager
def bench_database(args: argparse.Namespace) -> Iterator[str]:
    """Create, migrate and finally drop a database for one benchmark run; yields its vendor."""
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genesys.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    tmp = None
    admin_url = None
    name = f"genesys_bench_{os.getpid()}"
    if args.sqlite:
        tmp = tempfile.TemporaryDirectory(prefix="genesys-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
    else:
        import psycopg

        admin_url = args.pg_url
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        import django

        django.setup()
        from django.conf import settings

        # DEBUG only stands in for a secret key here: with it on, Django keeps the text of the
        # last 9,000 queries, hundreds of MB with thousands of ids each, and peak RSS lies.
        settings.DEBUG = False
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        yield connection.vendor
    finally:
        from django.db import connections

        connections.close_all()
        if admin_url:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if tmp:
            tmp.cleanup()


@contextlib.contextmanager
def timed(label: str, results: dict[str, float]) -> Iterator[None]:
    started = time.perf_counter()
    yield
    results[label] = time.perf_counter() - started
    print(f"  {label:<48} {results[label]:8.2f} s", flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
