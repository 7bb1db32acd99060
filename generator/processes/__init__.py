"""Work split over processes: a fork-based map in two (`parallel.py`) and a two-stage split (`staged.py`).

The lowest layer above `errors` and `paths`: any stage may use it, it imports nothing of mlgitops' own.
"""
