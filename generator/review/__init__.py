"""Pull-request review: what a change does to the rendered manifests, resources and policy findings."""
