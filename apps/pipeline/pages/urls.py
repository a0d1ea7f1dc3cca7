"""Pipeline staff pages under /pipeline/ (gated by the pipeline module switch in
config.urls_tenant)."""

from apps.pipeline.pages import board, reports

urlpatterns = [*board.urlpatterns, *reports.urlpatterns]
