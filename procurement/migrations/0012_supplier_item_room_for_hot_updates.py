"""Offer pages keep room for a new version of each row, so the updates every run makes (seen,
price, stock) stay on the page and touch no index (PostgreSQL's HOT updates).

Every ingest rewrites ``last_seen_run_id`` of every offer of its feed; with full pages each of
those updates moved the row to another page and added an entry to each of its four indexes.
At 60 % the page holds the row's next version, and the one after reuses the space of the first.
Existing pages take the setting as they are rewritten (VACUUM FULL makes it immediate).
"""

from django.db import migrations

from genesys.db import fillfactor_operation


class Migration(migrations.Migration):
    dependencies = [("procurement", "0011_feed_run_cancelled")]

    operations = [fillfactor_operation(table="procurement_supplieritem", fillfactor=60)]
