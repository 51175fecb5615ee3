"""Product pages keep room for the updates a recompute makes (shop price, EOL flag, updated at),
so they stay on the page and touch no index (PostgreSQL's HOT updates): a first ingest inserts
every product and its recompute then prices each one, which with full pages moved every row and
added an entry to each of the product's seven indexes. Existing pages take the setting as they
are rewritten.
"""

from django.db import migrations

from genesys.db import fillfactor_operation


class Migration(migrations.Migration):
    dependencies = [("catalog", "0011_stream_backlog_samples_and_bulk_permissions")]

    operations = [fillfactor_operation(table="catalog_product", fillfactor=85)]
