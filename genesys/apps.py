from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GenesysConfig(AppConfig):
    name = "genesys"
    verbose_name = _("Workers and jobs")
