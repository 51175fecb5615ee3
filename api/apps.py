from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The JSON API over the job ledger, the catalog and the feed runs: the top layer, which
    imports every app and is imported by none."""

    name = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from api import schema  # noqa: F401  (the schema's authentication extensions)
