from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class GenesysConfig(AppConfig):
    name = "genesys"
    verbose_name = _("Workers and jobs")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django.utils.module_loading import autodiscover_modules

        from genesys import db  # noqa: F401  (registers the any_of lookup)
        from genesys.jobs import maintenance  # noqa: F401  (the maintenance job kind)
        from genesys.notifications import digest  # noqa: F401  (the digest job kind)

        # Each app fills the registries of the job framework: its job kinds and maintenance steps
        # (jobs.py), its /healthz checks (health.py), its part of the demo (demo.py), its blocks
        # of the admin home page (home.py, genesys.home) and its notification kinds
        # (notifications.py, genesys.notifications).
        autodiscover_modules("jobs", "health", "demo", "home", "notifications")
        post_migrate.connect(_job_kind_configs_ensure, sender=self)


def _job_kind_configs_ensure(**kwargs) -> None:
    """Every job kind has its configuration row, with its defaults, right after migrate."""
    from genesys.jobs.ledger import kind_configs_ensure

    kind_configs_ensure()


class GenesysAdminConfig(AdminConfig):
    """``django.contrib.admin`` with Genesys's site: the one-time code for staff who enrolled."""

    default_site = "genesys.admin_site.GenesysAdminSite"
