"""Everyone chooses their notifications; operators send failed ones again: re-apply the roles."""

from django.db import migrations


def roles_create(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from genesys.roles import roles_sync

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("genesys", "0013_notifications"),
        ("catalog", "0011_stream_backlog_samples_and_bulk_permissions"),
        ("procurement", "0011_feed_run_cancelled"),
    ]

    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
