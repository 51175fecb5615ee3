"""Fault injection: real worker processes, real services, killed and restarted mid-run.

Every test here is slow and runs on PostgreSQL only (CI runs them there): they need real
concurrent writers and a server that can be stopped. Each case ends by comparing the catalog
and the shop with what a clean run of the same feed produces.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.postgres_only)
