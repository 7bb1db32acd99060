"""One environment built and checked (`build.py`), the whole fleet (`run.py`), its sources and provenance, and the
environments an edit affects (`rerender.py`)."""
