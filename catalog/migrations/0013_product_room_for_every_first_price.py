"""Product pages keep room for a second version of every row on them (fillfactor 50, was 85).

A first ingest inserts each new product and, in its catalog step, writes each one's first shop
price. Pages 85 % full held the new versions of only one row in five (588 of 3,000 in
tests/procurement/test_sql.py); the rest moved the row and added an entry to each of the
product's seven indexes. Measured on a 100,000-row first ingest, the settle that writes those
prices took 2.9 s (1.4 s with half-full pages) and the whole ingest about a fifth more. Later
runs change a few products at a time and reuse the space. The table takes about 1.7 times the
pages; the recompute reads products by id. Existing pages take it as they are rewritten
(VACUUM FULL makes it immediate).
"""

from django.db import migrations

from genesys.db import fillfactor_operation


class Migration(migrations.Migration):
    dependencies = [("catalog", "0012_product_room_for_hot_updates")]

    operations = [fillfactor_operation(table="catalog_product", fillfactor=50, previous=85)]
