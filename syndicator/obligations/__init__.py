"""Repost obligations on the 12-hour clock, and compliance reports for officers.

Wiring (done by the worker, the API and the CLI): `jobs.FUNCTIONS` / `jobs.CRON_JOBS`,
`routes.router`, `dashboard.router`, `cli.compliance_app`; ingest calls
`service.open_item_from_article`; `fulfil.on_publication_published` subscribes to the pipeline's
`events.PublicationPublished` (wired in `worker.startup`).
"""
