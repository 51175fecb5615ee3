"""Give the operator role the identity-conflict and price-outlier decisions.

The permissions come with procurement 0009, after the roles were first created: they are created
here (as in 0005_roles) so that the groups can be synced in the same ``migrate``.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def roles_resync(apps, schema_editor):
    from genesys.roles import roles_sync

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("genesys", "0005_roles"),
        ("catalog", "0008_product_identity_variant"),
        ("procurement", "0009_identity_conflicts_and_outliers"),
    ]

    operations = [migrations.RunPython(roles_resync, migrations.RunPython.noop)]
