"""A product's shop id stays unique, through a partial index of the linked products only.

The column's own unique index held an entry for every product, NULL included, though only the
products the shop knows have one: a first ingest wrote an entry for each new product, and the
settle that writes its first shop price another (the row's new version). The partial index
holds only linked products; equality lookups by shop id use it as before.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0014_marks_and_active_supplier_without_fk_checks"),
    ]

    operations = [
        migrations.AlterField(
            model_name="product",
            name="id_ecommerce",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="The PrestaShop product id, once the product exists in the shop.",
                null=True,
                verbose_name="shop product id",
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.UniqueConstraint(
                condition=models.Q(("id_ecommerce__isnull", False)),
                fields=("id_ecommerce",),
                name="product_unique_id_ecommerce",
                violation_error_message="Another product is already linked to this shop product.",
            ),
        ),
    ]
