"""An unchanged item no longer rewrites its offer: the offer's run mark is renamed for what it
now says (the last run that read the row in full), and ``missing_since`` says what the old name
promised (whether the feed still lists the offer), written only when that changes.

Offers missing before this release get ``missing_since`` at the next run that reads their
feed in full.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("procurement", "0013_supplier_item_room_for_every_row")]

    operations = [
        migrations.RenameField(model_name="supplieritem", old_name="last_seen_run", new_name="last_read_run"),
        migrations.AlterField(
            model_name="supplieritem",
            name="last_read_run",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=models.deletion.DO_NOTHING,
                related_name="+",
                to="procurement.feedrun",
                verbose_name="last read in full in run",
            ),
        ),
        migrations.AddField(
            model_name="supplieritem",
            name="missing_since",
            field=models.DateTimeField(
                blank=True,
                help_text=(
                    "Set when a run that read the whole feed no longer listed this offer (its stock "
                    "then went to 0); cleared when the feed lists it again."
                ),
                null=True,
                verbose_name="missing from the feed since",
            ),
        ),
    ]
