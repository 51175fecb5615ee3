"""Operators enable, disable, re-margin, mark EOL and resync products in bulk: re-apply the
roles now that those permissions exist."""

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
        ("genesys", "0011_kill_switch_history"),
        ("catalog", "0011_stream_backlog_samples_and_bulk_permissions"),
    ]

    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
