"""/api/: the schema, its pages for staff, and version 1 of the endpoints."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api.views import base as views_base
from api.views import catalog, feeds, jobs

app_name = "api"

v1 = [
    path("jobs", jobs.JobListCreateView.as_view(), name="jobs"),
    path("jobs/bulk", jobs.JobBulkView.as_view(), name="jobs-bulk"),
    path("jobs/<int:run_id>", jobs.JobDetailView.as_view(), name="job"),
    path("jobs/<int:run_id>/log", jobs.JobLogView.as_view(), name="job-log"),
    path("jobs/<int:run_id>/cancel", jobs.JobCancelView.as_view(), name="job-cancel"),
    path("queues", jobs.QueuesView.as_view(), name="queues"),
    path("sync/quick", jobs.QuickSyncView.as_view(), name="sync-quick"),
    path("products/<str:reference>", catalog.ProductView.as_view(), name="product"),
    path("feed-runs", feeds.FeedRunListView.as_view(), name="feed-runs"),
    path("feed-runs/<int:run_id>", feeds.FeedRunDetailView.as_view(), name="feed-run"),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The pages are for staff who logged in to the admin (with its two-factor rule): anonymous
    # visitors are sent to the admin's login page.
    path("docs/", admin.site.admin_view(SpectacularSwaggerView.as_view(url_name="api:schema")), name="docs"),
    path("redoc/", admin.site.admin_view(SpectacularRedocView.as_view(url_name="api:schema")), name="redoc"),
    path("v1/", include(v1)),
    # Anything else under /api/ is a JSON 404, not the site's HTML page.
    re_path(r"^.*$", views_base.not_found),
]
