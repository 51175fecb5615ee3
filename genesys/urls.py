from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from genesys import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
