"""Batch jobs: the worker that runs them and the handler of each kind (the queue itself is
versioning/jobs.py)."""
