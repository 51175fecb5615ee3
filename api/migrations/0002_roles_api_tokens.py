"""The admin role manages API tokens: re-apply the roles now that the token permissions exist.

As in genesys 0005_roles, the permissions are created here first (they are normally created after
the last migration) so that a fresh database gets complete groups in one ``migrate``.
"""

from django.db import migrations


def roles_resync(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from genesys.roles import roles_sync

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_api_tokens"),
        ("genesys", "0010_roles_cancel_jobs"),
        ("catalog", "0009_price_guard_and_landed_cost"),
        ("procurement", "0010_landed_cost_terms"),
        ("prestashop", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_resync, migrations.RunPython.noop)]
