"""Reports: declared once in code, run as jobs, downloaded through short-lived signed links.

- ``registry.py``: ``@report(name=..., title=..., permission=..., parameters=..., format=...)``
  declares a generator; apps declare theirs in a ``reports.py`` module (autodiscovered).
- ``POST /api/v1/reports/<name>/runs/`` validates the parameters with the report's
  serializer, records a ``ReportRun`` and its ``JobRun``, and queues ``reports.generate``
  (queue ``low``). The worker writes the file (``excel.py``: openpyxl write-only fed by a
  server-side cursor; ``pdf.py``: fpdf2) into the tenant's storage under
  ``reports/<run id>/``.
- ``GET /api/v1/reports/runs/<id>/`` gives the caller a ``download_url`` once the file is
  there: a token bound to tenant, run and user (``links.py``), valid
  TENANTRY_REPORT_LINK_SECONDS (300), which only opens the file together with that same
  user's session or bearer token.
- ``reports.cleanup`` (daily per tenant through ``jobs.fanout``) removes runs and files
  TENANTRY_REPORT_RETENTION_DAYS (7) after they were asked for.
"""
