"""Existing installations get the dirty-set sweep: catalog_recompute every 30 s when idle."""

from django.db import migrations


def schedule_sweep(apps, schema_editor):
    JobKindConfig = apps.get_model("genesys", "JobKindConfig")
    JobKindConfig.objects.filter(kind="catalog_recompute", schedule="").update(schedule="every 30s")


def unschedule_sweep(apps, schema_editor):
    JobKindConfig = apps.get_model("genesys", "JobKindConfig")
    JobKindConfig.objects.filter(kind="catalog_recompute", schedule="every 30s").update(schedule="")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_dirty_products"),
        ("genesys", "0003_job_runs_params_schedule_one_active_per_key"),
    ]

    operations = [migrations.RunPython(schedule_sweep, unschedule_sweep)]
