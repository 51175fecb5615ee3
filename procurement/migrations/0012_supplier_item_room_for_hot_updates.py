"""Offer pages keep room for a new version of each row, so the updates every run makes (seen,
price, stock) stay on the page and touch no index (PostgreSQL's HOT updates).

Every ingest rewrites ``last_seen_run_id`` of every offer of its feed; with full pages each of
those updates moved the row to another page and added an entry to each of its four indexes.
At 60 % the page holds the row's next version, and the one after reuses the space of the first.
Existing pages take the setting as they are rewritten (VACUUM FULL makes it immediate).
"""

from django.db import migrations

FILLFACTOR = 60


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE procurement_supplieritem SET (fillfactor = {FILLFACTOR})")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE procurement_supplieritem RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("procurement", "0011_feed_run_cancelled")]

    operations = [migrations.RunPython(fillfactor_set, fillfactor_reset, elidable=False)]
