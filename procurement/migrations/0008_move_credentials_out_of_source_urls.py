"""Take credentials out of feed source URLs; keep only environment-variable NAMES.

Where the feed's authentication can carry them (a feed without authentication, with one
credential query parameter or a user:password part), the feed is switched to "query" or "basic"
authentication naming GENESYS_FEED_<id>_<PARAM> variables, and the URL loses the secret. The
operator then sets those variables where the workers run; until then the ingest stops with a
message naming them. Anything else (several parameters, or a feed that already authenticates)
is stripped too, and the feed is deactivated. Either way ``url_credentials_removed`` records the
NAMES involved, and the admin shows a warning on the feed. The secret values are not kept
anywhere, not even in this migration's output.
"""

import re

from django.db import migrations


def _env_name(feed_id, suffix):
    return f"GENESYS_FEED_{feed_id}_{re.sub(r'[^A-Z0-9]+', '_', suffix.upper()).strip('_')}"


def credentials_move(apps, schema_editor):
    from procurement.feeds.source_url import url_credentials_find, url_without_credentials

    feed_model = apps.get_model("procurement", "SupplierFeed")
    for feed in feed_model.objects.exclude(source_url__startswith="file:").iterator():
        found = url_credentials_find(feed.source_url)
        if not found:
            continue
        auth_none = (feed.auth_type or "none") == "none"
        if auth_none and found.userinfo and not found.params:
            feed.auth_type = "basic"
            feed.auth_settings = {
                "username_env": _env_name(feed.pk, "username"),
                "password_env": _env_name(feed.pk, "password"),
            }
            feed.url_credentials_removed = {"env": sorted(feed.auth_settings.values())}
        elif auth_none and len(found.params) == 1 and not found.userinfo:
            param = found.params[0]
            feed.auth_type = "query"
            feed.auth_settings = {"param": param, "value_env": _env_name(feed.pk, param)}
            feed.url_credentials_removed = {"env": [feed.auth_settings["value_env"]]}
        else:
            feed.is_active = False
            feed.url_credentials_removed = {"params": list(found.params), "userinfo": found.userinfo}
        feed.source_url = url_without_credentials(feed.source_url)
        feed.save(
            update_fields=["source_url", "auth_type", "auth_settings", "is_active", "url_credentials_removed"]
        )


class Migration(migrations.Migration):
    dependencies = [("procurement", "0007_feed_url_credentials_removed")]

    operations = [migrations.RunPython(credentials_move, migrations.RunPython.noop)]
