"""Create the role groups (viewer, operator, integrator, admin) with their permissions.

Permissions are normally created after the last migration (post_migrate); they are created here
first, for every app, so a fresh database gets its groups in the same ``migrate``. The migration
depends on the apps whose permissions the roles name; ``manage.py roles_sync`` re-applies the
roles after later upgrades (genesys/roles.py).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def roles_create(apps, schema_editor):
    from genesys.roles import roles_sync

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("genesys", "0004_permissions"),
        ("catalog", "0007_permissions"),
        ("procurement", "0008_move_credentials_out_of_source_urls"),
        ("prestashop", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("axes", "0010_accessattemptexpiration"),
        ("otp_totp", "0003_add_timestamps"),
        ("django_rq", "0003_alter_dashboard_permission_names"),
    ]

    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
