"""Batch jobs: the queue in PostgreSQL, the worker that runs jobs, and the job kinds."""
