from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GenesysConfig(AppConfig):
    name = "genesys"
    verbose_name = _("Workers and jobs")

    def ready(self) -> None:
        from genesys import db  # noqa: F401  (registers the any_of lookup)
