"""Pull-request review: what a change does to the rendered manifests, resources and policy findings (`mlgitops diff`),
and what an edit changed (``edit_report.py``)."""
